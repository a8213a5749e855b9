// ESLint: typescript-eslint's type-aware recommended rules for src/, test/ and bench/ TypeScript.
// `npm run lint:es`; part of `npm test`. Change a rule here, deliberately, never silence it inline
// without a reason in the same comment.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.mjs', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // An `async` method that implements a Promise-returning interface reads better than
      // `return Promise.resolve(...)`, and its throws become rejections, which is what callers expect.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Node 20: a timeout signal inside AbortSignal.any() can be garbage-collected and never fire.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='AbortSignal'][callee.property.name='any'] CallExpression[callee.object.name='AbortSignal'][callee.property.name='timeout']",
          message: 'AbortSignal.timeout() inside AbortSignal.any() may never fire on Node 20 (garbage collection); use withTimeout() or timeoutSignal() from src/shared/abort.ts.',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.objectContaining, expect.any, ...) and JSON.parse of
      // a report are typed `any`; in tests the assertion itself is the type check.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
);
