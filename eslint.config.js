// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './eslint/layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', '.tmp/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    // src/ holds the product: no escape hatches from the type system.
    files: ['src/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': true, 'ts-expect-error': true, 'ts-nocheck': true }],
    },
  },
  {
    // The MCP SDK behind one seam: a move to another SDK line changes src/mcp/sdk.ts alone.
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/mcp/sdk.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@modelcontextprotocol/sdk(/|$)',
              message: 'Import the MCP SDK through src/mcp/sdk.ts, the one module that may import it.',
            },
          ],
        },
      ],
      // import() too, which no-restricted-imports does not see.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^@modelcontextprotocol\\/sdk(\\/|$)/]',
          message: 'Import the MCP SDK through src/mcp/sdk.ts, the one module that may import it.',
        },
      ],
    },
  },
  {
    // The layers of src/ (eslint/layers.js, drawn in docs/architecture.md): the domain imports no
    // adapter, driver or SDK; adapters reach each other only where the table allows.
    files: ['src/**/*.{ts,tsx}'],
    plugins: { layers },
    rules: { 'layers/layers': 'error' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
