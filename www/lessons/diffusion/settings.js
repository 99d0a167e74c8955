// @ts-check
// The diffusion lesson's settings (entries of the property table, state.js): the noise level
// sigma of sigma_t = sigma beta_t, whether the drift carries the score correction, and
// whether Langevin dynamics run at the frozen time.
import { bounds } from '../../limits.js';

/** @returns {import('../../state.js').Props} */
export default function settings() {
  return {
    sigma: { kind: 'number', def: 1, ...bounds('sigma') },
    scoreFix: { kind: 'bool', def: true },
    langevin: { kind: 'bool', def: false },
  };
}
