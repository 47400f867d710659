import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const KAFKAJS = { name: 'kafkajs', message: 'Only src/kafka/ may import kafkajs.' };
const BELOW_STAGES =
  'The shared layers sit below the stages: they never import one (docs/pipeline.md).';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-imports': ['error', { paths: [KAFKAJS] }],
    },
  },
  // Layering: the shared layers never import a stage, and a stage never imports another
  // stage (what two stages share lives in a layer below them, or in src/stages/*.ts).
  // Tests may cross layers to drive real parts together.
  {
    files: ['src/*/**/*.ts'],
    ignores: ['src/stages/**', 'src/runtime/**', 'src/cli/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [KAFKAJS],
          patterns: [{ group: ['**/stages/**', '**/stages'], message: BELOW_STAGES }],
        },
      ],
    },
  },
  {
    files: ['src/kafka/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/stages/**', '**/stages'], message: BELOW_STAGES }] },
      ],
    },
  },
  {
    files: ['src/stages/*/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [KAFKAJS],
          patterns: [
            {
              group: ['../*/*', '!../../**'],
              message: 'A stage does not import another stage; move what they share below them.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/kafka/**/*.test.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.test.ts'], rules: { 'no-console': 'off' } },
);
