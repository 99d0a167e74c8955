// ESLint for the front end (www/) and the tests: the recommended rules, the browser, worker
// and Node globals where each runs, and a line length that keeps code readable in review.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['tests/node_modules/**', 'tests/artifacts/**', 'www/pkg/**', 'www/pkg-relaxed/**', 'target/**'] },
  js.configs.recommended,
  {
    files: ['www/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    files: ['www/**/*.worker.js'],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    files: ['tests/**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node, ...globals.browser } },
  },
  {
    rules: {
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
    },
  },
];
