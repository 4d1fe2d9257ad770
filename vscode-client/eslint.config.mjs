// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
    { ignores: ['out/**', 'bundled/**', 'node_modules/**'] },
    eslint.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    {
        languageOptions: {
            parserOptions: {
                projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] },
                tsconfigRootDir: import.meta.dirname,
            },
        },
        rules: {
            '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
            '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
            eqeqeq: 'error',
            curly: 'error',
            'no-console': 'error',
            // VS Code accepts any {dispose()} where a Disposable is expected.
            '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
            '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
        },
    },
    {
        files: ['src/test/**/*.ts'],
        rules: {
            // Tests poke at mocks and Node internals.
            '@typescript-eslint/no-unsafe-assignment': 'off',
            '@typescript-eslint/no-unsafe-member-access': 'off',
            '@typescript-eslint/no-unsafe-call': 'off',
            '@typescript-eslint/no-unsafe-argument': 'off',
            '@typescript-eslint/no-unsafe-return': 'off',
            '@typescript-eslint/no-explicit-any': 'off',
            '@typescript-eslint/no-non-null-assertion': 'off',
            'no-console': 'off',
            // node:test's describe()/test() return promises the runner awaits.
            '@typescript-eslint/no-floating-promises': 'off',
        },
    },
    {
        files: ['*.mjs', 'scripts/*.mjs'],
        ...tseslint.configs.disableTypeChecked,
        languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
        rules: { ...tseslint.configs.disableTypeChecked.rules, 'no-console': 'off' },
    },
);
