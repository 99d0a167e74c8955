// @ts-check
// The memorization check's split: while it is on, a fifth of the drawn points (seeded) is held
// out from training and from the exact field. `split` holds the training points (all, and as
// many of them as are held out: compared like with like), their labels, the held-out points
// and the radius within which a sample counts as near a point.
import { holdout_split, median_nn_spacing } from './pkg/fmp.js';

/**
 * @typedef {{ trainAll: Float32Array, trainLabels: Uint8Array, train: Float32Array, heldout: Float32Array,
 *   radius: number, heldCount: number, total: number }} Split
 */

/** The fewest points a split is made of. */
const MIN_POINTS = 10;
/** The share of the points held out. */
const HELD_OUT = 0.2;

export class HoldOut {
  /** @param {import('./draw.js').Cloud} cloud */
  constructor(cloud) {
    this.cloud = cloud;
    /** @type {Split | null} */
    this.split = null;
  }

  /**
   * Makes the split of the current drawing (none while the check is off, or below
   * MIN_POINTS points).
   * @param {boolean} on whether the memorization check is on
   * @param {number} seed
   */
  update(on, seed) {
    const { cloud } = this;
    this.split = null;
    if (!on || cloud.count < MIN_POINTS) return;
    const flags = holdout_split(cloud.count, HELD_OUT, seed);
    const pts = cloud.view();
    /** @type {number[]} */
    const train = [], held = [], trainLabels = [];
    for (let i = 0; i < cloud.count; i++) {
      (flags[i] ? held : train).push(pts[2 * i], pts[2 * i + 1]);
      if (!flags[i]) trainLabels.push(cloud.labelAt(i));
    }
    const heldCount = held.length / 2;
    this.split = {
      trainAll: Float32Array.from(train), trainLabels: Uint8Array.from(trainLabels),
      train: Float32Array.from(train.slice(0, 2 * heldCount)),
      heldout: Float32Array.from(held), radius: median_nn_spacing(pts) / 2, heldCount, total: cloud.count,
    };
  }

  /** The points the network trains on and the exact field is made of (a copy). */
  points() {
    return this.split ? this.split.trainAll.slice() : this.cloud.points();
  }

  /** Their labels, one each (a copy). */
  labels() {
    return this.split ? this.split.trainLabels.slice() : this.cloud.labels();
  }
}
