// The particle side: the flow worker and the trajectories it sends (learned, exact and the
// uniform-weight field), with a status line while an exact flow is being computed.
import { WorkerClient } from './clients.js';
import { Trajectory } from './particles.js';
import { $, showMessage } from './ui.js';

export class Flows {
  /** opts: { settings, onTrajectory(kind) } */
  constructor(opts) {
    Object.assign(this, opts);
    this.traj = { learned: null, exact: null, uniform: null };
    this.worker = new WorkerClient(new URL('./flow.worker.js', import.meta.url), (m) => this.onMessage(m), (reason) => {
      showMessage(`The flow worker stopped (${reason}); restarted.`, 'error');
      this.setup();
      if (this.last.cloud) this.cloud(...this.last.cloud);
      if (this.last.model) this.model(...this.last.model);
      this.extra(this.last.extra);
    });
    this.last = { cloud: null, model: null, extra: null };
  }
  /** Particle count, seed, solver and steps changed: everything is recomputed. */
  setup() {
    const s = this.settings;
    this.worker.post({ type: 'setup', particles: s.particles, seed: s.seed, solver: s.solver, steps: s.odeSteps });
  }
  cloud(points, schedule) {
    this.last.cloud = [points, schedule];
    // No cloud, nothing to flow to: drop the particles of the old one.
    if (points.length === 0) this.traj = { learned: null, exact: null, uniform: null };
    this.worker.post({ type: 'cloud', points, schedule });
  }
  /** A weight snapshot (the buffer is copied: the page keeps using it). */
  model(config, weights) {
    this.last.model = [config, weights];
    this.worker.post({ type: 'model', config, weights: weights.slice() });
  }
  /** Also computes the flow of `kind` ('uniform') or stops doing so (null). */
  extra(kind) {
    this.last.extra = kind;
    this.worker.post({ type: 'extra', kind });
  }
  onMessage(m) {
    if (m.type === 'traj') {
      this.traj[m.kind] = new Trajectory(m.frames, m.n, m.steps);
    } else if (m.type === 'begin') {
      this.traj[m.kind] = Trajectory.streamed(m.first, m.n, m.steps);
    } else if (m.type === 'frames') {
      this.traj[m.kind]?.append(m.start, m.data);
    } else if (m.type === 'error') {
      showMessage(`Could not compute the particle flow: ${m.message}`, 'error');
      return;
    }
    const ex = this.traj.exact;
    $('flow-status').textContent = ex && !ex.complete() ? `exact flow: computed to t = ${ex.reach().toFixed(2)}` : '';
    this.onTrajectory?.(m.kind);
  }
}
