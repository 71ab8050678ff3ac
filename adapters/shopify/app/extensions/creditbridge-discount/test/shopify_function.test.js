// Runs the Function the way the Wasm build does: through the run() glue of
// the real @shopify/shopify_function package (installed from npm with
// `npm ci`), which reads the input from, and writes the output to, the
// ShopifyFunction global that the Javy runtime provides. The package ships
// TypeScript; it is transpiled with the TypeScript compiler it depends on.
// The input query is validated against schema.graphql with graphql-js, the
// library the CLI's typegen (graphql-codegen) uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import ts from 'typescript';
import { buildSchema, parse, validate } from 'graphql';

import { cartLinesDiscountsGenerateRun } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(import.meta.url);

async function loadRun() {
  const pkg = JSON.parse(readFileSync(require.resolve('@shopify/shopify_function/package.json'), 'utf8'));
  assert.match(pkg.version, /^2\.0\./, 'Shopify CLI builds JavaScript Functions with @shopify/shopify_function ~2.0.0');
  const src = readFileSync(join(dirname(require.resolve('@shopify/shopify_function/package.json')), 'run.ts'), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(mkdtempSync(join(tmpdir(), 'cb-fn-')), 'run.mjs');
  writeFileSync(file, js);
  return (await import(pathToFileURL(file).href)).default;
}

function runThroughPackage(run, fn, input) {
  let output;
  globalThis.ShopifyFunction = {
    readInput: () => structuredClone(input),
    writeOutput: (o) => { output = o; },
  };
  try {
    run(fn);
  } finally {
    delete globalThis.ShopifyFunction;
  }
  return output;
}

test('the package refuses to run without the Javy ShopifyFunction global', async () => {
  const run = await loadRun();
  assert.throws(() => run(cartLinesDiscountsGenerateRun), /ShopifyFunction is not defined/);
});

test('testdata inputs give the expected outputs through the package', async () => {
  const run = await loadRun();
  const dir = join(root, 'testdata');
  const inputs = readdirSync(dir).filter((f) => f.endsWith('.input.json'));
  assert.ok(inputs.length >= 3, 'testdata has inputs');
  for (const f of inputs) {
    const input = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const want = JSON.parse(readFileSync(join(dir, f.replace('.input.json', '.expected.json')), 'utf8'));
    assert.deepEqual(runThroughPackage(run, cartLinesDiscountsGenerateRun, input), want, f);
  }
});

test('the input query validates against schema.graphql', () => {
  const schema = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'), { assumeValidSDL: false });
  const query = readFileSync(join(root, 'src', 'cart_lines_discounts_generate_run.graphql'), 'utf8');
  assert.deepEqual(validate(schema, parse(query)).map((e) => e.message), []);
  const bad = query.replace('subtotalAmount', 'subtotalAmout');
  assert.notDeepEqual(validate(schema, parse(bad)).length, 0, 'a misspelled field is rejected');
});
