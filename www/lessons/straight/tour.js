// @ts-check
// The straight-paths lesson's tour: why paths bend, and what straightens them.
// Each step: title, body (HTML + MathML), the element it talks about (scrolled into view) and
// the stage set-up (a settings patch + extras); tour.js shows them.
import { F, block } from '../../math.js';

const m = block;

/** @type {import('../../tour.js').Step[]} */
export const STEPS = [
  {
    title: '1. Why the learned paths bend',
    body: `<p>Each training pair (noise x<sub>0</sub>, data point x<sub>1</sub>) is drawn independently, and with the `
      + `linear schedule (set for this tour) its conditional path is a straight line:</p>
      ${m(F.pairPath)}
      <p>But lines from everywhere to everywhere cross. Where several lines pass one point at the same time, the `
        + `marginal field there averages their directions, so the particles, which follow the average, turn: their `
        + `paths bend. The rings are the network's particles, the squares the exact field's; with trails on, their `
        + `paths are drawn too (while frames are fast enough). Straightness measures the bending:</p>
      ${m(F.straightness)}
      <p>The table under <b>The networks</b> gives S and the number of crossing pairs among 100 paths, measured on the `
        + `network now training.</p>`,
    target: '#stage',
    setup: {
      patch: {
        lesson: 'straight', field: 'paths', coupling: 'independent', schedule: 'linear', heat: false, show: 'both',
        trails: true, memo: false,
      },
      time: 'play', train: true,
    },
  },
  {
    title: '2. The straight reference',
    body: `<p>Pair the particles' noise with your drawing as a whole instead, by the assignment that moves the least `
      + `in total (squared distance):</p>
      ${m(F.otCoupling)}
      <p>The teal squares move along their pairs' paths: with the linear schedule, straight lines at constant speed. `
        + `Lines may still cross in the plane, but no two particles are at one place at the same time, so no averaging `
        + `bends them. The caption gives their S and crossings. A field that moved particles like this could be `
        + `followed in one Euler step.</p>`,
    target: '#stage',
    setup: {
      patch: {
        lesson: 'straight', field: 'ot', schedule: 'linear', heat: false, show: 'both', trails: true, memo: false,
      },
      time: 'play',
    },
  },
  {
    title: '3. Minibatch OT coupling',
    body: `<p>The network cannot see the whole plan, but each training batch can: its noise is re-paired with its data `
      + `points by the same exact assignment, in blocks, before the conditional targets are formed. The coupling is `
      + `now <b>minibatch OT</b> (a fresh network is training): compare the S and crossings in the table with those `
      + `step 1 showed for independent pairs, and read what a step costs in the line under the coupling.</p>`,
    target: '#straight-card',
    setup: {
      patch: {
        lesson: 'straight', field: 'paths', coupling: 'ot', heat: false, show: 'both', trails: true, memo: false,
      },
      time: 'play', train: true,
    },
  },
  {
    title: '4. Reflow',
    body: `<p>Rectified flow straightens without any assignment. Draw noise, carry it along the trained network's own `
      + `ODE to its end point, and train a fresh network on the straight lines between these pairs:</p>
      ${m(F.reflow)}
      <p>The new network learns these straight lines, not the ODE's paths. The lines can still meet (a flow that `
        + `turns the plane by π sends x<sub>0</sub> to −x<sub>0</sub>, and every such line passes 0 at t = ½), but `
        + `Liu et al. prove that a reflow never raises the transport cost and that the paths straighten over rounds; `
        + `the table measures by how much, and counts the pairs that still cross in the plane. Press <b>Reflow</b> `
        + `once the network has trained: the old network stays on the stage in its own colour, and the table `
        + `compares them. Reflow again, and the table shows whether it straightens further.</p>`,
    target: '#reflow',
    setup: {
      patch: { lesson: 'straight', field: 'paths', heat: false, show: 'both', trails: true, memo: false },
      time: 'play', train: true,
    },
  },
  {
    title: '5. Sampling in few steps',
    body: `<p>Sampling follows the ODE in steps:</p>
      ${m(F.eulerStep)}
      <p>Along a straight path at constant speed one step lands exactly; along a bent one a few steps cut the corners. `
        + `The chart shows W2 between Euler samples and your drawing after 1, 2, 4, …, 64 steps, one line per network: `
        + `the caption says from how many steps each is within 10% of its 64-step quality.</p>`,
    target: '#nfe-chart',
    setup: { patch: { lesson: 'straight', field: 'paths', heat: false, show: 'both', memo: false }, time: 'play' },
  },
];
