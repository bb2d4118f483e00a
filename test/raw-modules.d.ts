// Vite's `?raw` suffix imports a file's text (test fixtures read inside workerd, which has no file system).
declare module '*.csv?raw' {
  const text: string;
  export default text;
}
