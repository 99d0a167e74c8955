// @ts-check
// The guidance lesson's settings (entries of the property table, state.js): the guidance
// scale w, the class sampled, and the class a stroke draws and the eraser takes (classes
// 1..MAX_CLASSES).
import { bounds } from '../../limits.js';

/** @returns {import('../../state.js').Props} */
export default function settings() {
  return {
    guidance: { kind: 'number', def: 1, ...bounds('guidance') },
    sampleClass: { kind: 'int', def: 1, ...bounds('class') },
    brushClass: { kind: 'int', def: 1, ...bounds('class') },
  };
}
