import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// lab/ runs one way: core <- cli, core <- exercises; components (long-running lab processes) use
// only core. Checked on resolved files, so `../core/../cli/x` cannot slip through.
const LAB = './lab/src';
const layer = (target, from, why) => ({
  target: `${LAB}/${target}`,
  from: from.map((f) => `${LAB}/${f}`),
  message: why,
});
const LAYERS = [
  layer('core', ['cli', 'exercises', 'components', 'exercise-api.ts'], 'core knows nothing of the layers above it.'),
  layer('exercises', ['cli', 'components'], 'the exercise engine uses core only; the CLI calls it, not the reverse.'),
  layer('components', ['cli', 'exercises', 'exercise-api.ts'], 'a lab process uses core only.'),
];

// Exercise definitions and bench/ reach the lab only through its public export.
const PUBLIC_API_ONLY = {
  patterns: [
    {
      // a `dist` folder anywhere; lab/<anything> but lab/exercise-api; a relative path into lab/
      regex: '(^|/)dist(/|$)|^lab/(?!exercise-api$)|^(\\.\\./)+lab(/|$)',
      message: 'import the lab through `lab/exercise-api` only (no dist path, no path into lab/).',
    },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', '.lab/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    // Plain CommonJS scripts run by Node (the lab launcher) and k6 scripts (ES modules with k6 globals).
    files: ['**/*.js'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        __filename: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['lab/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: LAYERS }],
      // A cycle makes two modules one: neither can be read, tested or moved alone.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['exercises/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', PUBLIC_API_ONLY] },
  },
);
