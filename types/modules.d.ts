// The emscripten factory of tfjs-backend-wasm ships without a declaration for this subpath.
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.js' {
  const factory: unknown;
  export default factory;
}
