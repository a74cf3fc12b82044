// The lint half of `npm run check`: typescript-eslint's type-checked
// recommendations, less the rules that only restate what strict tsc already
// checks here or that flag the house's deliberate idioms (see each entry).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // tsc's noUnusedLocals/noUnusedParameters already fail the build on these.
      '@typescript-eslint/no-unused-vars': 'off',
      // Interfaces of closures (Ctl, Lab, the test helpers) use method shorthand;
      // the rule reads every destructured member as a `this`-bound method.
      '@typescript-eslint/unbound-method': 'off',
      // An async method that does not await keeps its interface's contract (it
      // returns a promise, and a throw becomes a rejection).
      '@typescript-eslint/require-await': 'off',
      // Values read off the wire (Neutron, Docker and Keystone JSON, OVSDB atoms)
      // are `unknown` until checked; printing one with String() is how an error
      // message quotes what the peer sent, whatever its type.
      '@typescript-eslint/no-base-to-string': 'off',
      // node:test runs what test()/describe() return; awaiting them is not the idiom.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
    },
  },
);
