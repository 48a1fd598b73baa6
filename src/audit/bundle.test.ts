// Proof bundles: made from a real ledger, verified with the public key alone, and refused when any part is
// changed — the entry, its bytes, its index, the proof, the checkpoint — or signed by another key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, type ProofBundle, parseBundle, proveEntry, verifyBundle } from './bundle.js';
import { checkpointSigner } from './checkpoint.js';
import { generateSigner, type NoteSigner, parseVerifierKey } from './note.js';
import { type AuditLedger, openAuditLedger } from './store.js';

let dir: string;
let ledger: AuditLedger;
let signer: NoteSigner;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-bundle-'));
  ledger = await openAuditLedger({ dataDir: dir });
  signer = generateSigner('test.example/ledger').signer;
  await ledger.appendMany(
    Array.from({ length: 13 }, (_, i) => ({
      actor: { kind: 'token' as const, id: `token:deployer-${i}` },
      action: 'rollout.started',
      subject: { environment: 'prod', app: 'api', commit: `${i}`.repeat(40).slice(0, 40) },
      reason: `release ${i}`,
    })),
  );
  await ledger.checkpoint(checkpointSigner(signer));
  await ledger.append({ actor: { kind: 'ci', id: 'ci#1' }, action: 'check.passed' });
});
afterAll(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a proof bundle', () => {
  it('verifies with nothing but the public key, for every covered entry', async () => {
    const verifier = parseVerifierKey(signer.verifierKey);
    for (let id = 0; id < 13; id++) {
      const bundle = await proveEntry(ledger, id);
      expect(bundle).toMatchObject({ format: BUNDLE_FORMAT, leafIndex: id, treeSize: 13 });
      // The bundle travels as JSON text: verify what the file holds.
      const verdict = verifyBundle(parseBundle(JSON.stringify(bundle), 'bundle.json'), verifier);
      expect(verdict).toMatchObject({
        ok: true,
        origin: 'test.example/ledger',
        treeSize: 13,
        entry: { id, reason: `release ${id}` },
      });
    }
  });

  it('is refused for an entry not yet under a checkpoint, or one that does not exist', async () => {
    await expect(proveEntry(ledger, 13)).rejects.toThrow(
      /entry 13 is not covered by a signed checkpoint yet \(the latest is at size 13\)/,
    );
    await expect(proveEntry(ledger, 14)).rejects.toThrow(/there is no entry 14 \(the ledger has 14\)/);
  });

  describe('changed in any part, fails', () => {
    let bundle: ProofBundle;
    beforeAll(async () => {
      bundle = await proveEntry(ledger, 6);
    });
    const flip = (b64: string): string => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = (bytes[0] as number) ^ 1;
      return bytes.toString('base64');
    };
    const cases: [string, (b: ProofBundle) => ProofBundle, RegExp][] = [
      [
        'the canonical bytes',
        (b) => ({
          ...b,
          canonical: b.canonical.replace('release 6', 'release 7'),
          entry: { ...b.entry, reason: 'release 7' },
        }),
        /inclusion proof/,
      ],
      [
        'the readable entry only',
        (b) => ({ ...b, entry: { ...b.entry, reason: 'approved by the CFO' } }),
        /readable "entry" differs/,
      ],
      ['the index', (b) => ({ ...b, leafIndex: 7 }), /says it is entry 6, the proof is for index 7/],
      [
        'a proof hash',
        (b) => ({
          ...b,
          inclusionProof: [flip(b.inclusionProof[0] as string), ...b.inclusionProof.slice(1)],
        }),
        /inclusion proof/,
      ],
      [
        'the proof length',
        (b) => ({ ...b, inclusionProof: b.inclusionProof.slice(1) }),
        /the proof has 3 hashes/,
      ],
      ['the tree size', (b) => ({ ...b, treeSize: 12 }), /says tree size 12, its checkpoint 13/],
      [
        'the checkpoint size',
        (b) => ({ ...b, checkpoint: b.checkpoint.replace('\n13\n', '\n12\n') }),
        /does not verify/,
      ],
      [
        'the canonical form',
        (b) => ({ ...b, canonical: b.canonical.replace('{', '{ ') }),
        /not in canonical form|not JSON/,
      ],
    ];
    it.each(cases)('%s', (_name, change, reason) => {
      const verdict = verifyBundle(change(bundle), parseVerifierKey(signer.verifierKey));
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(reason);
    });

    it('checked with another key', () => {
      const other = generateSigner('test.example/ledger').signer;
      expect(verifyBundle(bundle, parseVerifierKey(other.verifierKey))).toMatchObject({
        ok: false,
        reason: /not by the trusted key/,
      });
    });
  });

  it.each([
    ['not JSON', '{', /is not JSON/],
    ['another format', JSON.stringify({ format: 'x' }), /format: /],
    ['a missing field', JSON.stringify({ format: BUNDLE_FORMAT }), /entry: /],
    [
      'an unknown field',
      JSON.stringify({
        format: BUNDLE_FORMAT,
        entry: {},
        canonical: '',
        leafHash: '',
        leafIndex: 0,
        treeSize: 1,
        inclusionProof: [],
        checkpoint: '',
        extra: 1,
      }),
      /Unrecognized key/,
    ],
  ])('parsing refuses %s, naming the field', (_name, text, message) => {
    expect(() => parseBundle(text, 'b.json')).toThrow(message);
  });
});
