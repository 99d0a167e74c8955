// @ts-check
// The straight-paths lesson's settings (entries of the property table, state.js): the
// coupling of noise and data in training, one of the core's couplings (its catalog).

/**
 * @param {import('../../state.js').Catalog} catalog
 * @returns {import('../../state.js').Props}
 */
export default function settings(catalog) {
  const ids = catalog.couplings.map((c) => c.id);
  return {
    coupling: { kind: 'enum', def: ids[0], values: ids },
  };
}
