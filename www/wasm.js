// @ts-check
// Which wasm build a training worker loads. Two builds of the core exist (cargo xtask build):
// www/pkg (simd128, runs everywhere) and www/pkg-relaxed (with relaxed SIMD: the matrix
// kernel's fused multiply-add, crate/src/gemm.rs). A browser that validates relaxed SIMD
// gets the second. The page and the flow worker keep www/pkg (their work is not products).

/**
 * The smallest module that uses relaxed SIMD: one function returning
 * `f32x4.relaxed_madd(v128.const 0, v128.const 0, v128.const 0)`.
 */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
  0xfd, 0x0c, ...new Array(16).fill(0),
  0xfd, 0x0c, ...new Array(16).fill(0),
  0xfd, 0x0c, ...new Array(16).fill(0),
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

/** Whether this browser validates relaxed SIMD. */
export const relaxedSimd = () => WebAssembly.validate(RELAXED_PROBE);

/**
 * The build a training worker loads: 'relaxed' where relaxed SIMD validates, else 'simd128';
 * `choice` forces one (the benchmark compares them).
 * @param {'auto' | 'relaxed' | 'simd128'} [choice]
 * @returns {'relaxed' | 'simd128'}
 */
export const buildFor = (choice = 'auto') => (choice === 'auto' ? (relaxedSimd() ? 'relaxed' : 'simd128') : choice);

/**
 * Loads and initialises a build of the core (see buildFor).
 * @param {'auto' | 'relaxed' | 'simd128'} [choice]
 * @returns {Promise<typeof import('./pkg/fmp.js')>}
 */
export async function loadCore(choice = 'auto') {
  const pkg = buildFor(choice) === 'relaxed' ? await import('./pkg-relaxed/fmp.js') : await import('./pkg/fmp.js');
  await pkg.default();
  return pkg;
}
