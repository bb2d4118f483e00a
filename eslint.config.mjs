// typescript-eslint's recommended rules over the TypeScript sources (the .mjs scripts are Node glue, checked by
// Prettier only). Tests read untyped JSON bodies, so `any` is allowed there and nowhere else.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.wrangler/',
      'dist/',
      'public/',
      'bench/tmp/',
      'test-artifacts/',
      'worker-configuration.d.ts',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'experiment/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
