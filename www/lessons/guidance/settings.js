// @ts-check
// The guidance lesson's settings (entries of the property table, state.js): the guidance
// scale w, the class sampled, and the class a stroke draws and the eraser takes (classes
// 1..MAX_CLASSES).
import { MAX_CLASSES } from '../../state.js';

/** @returns {import('../../state.js').Props} */
export default function settings() {
  return {
    guidance: { kind: 'number', def: 1, min: 0, max: 8 },
    sampleClass: { kind: 'int', def: 1, min: 1, max: MAX_CLASSES },
    brushClass: { kind: 'int', def: 1, min: 1, max: MAX_CLASSES },
  };
}
