import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { EMPTY_ROOT } from '../merkle/hash.js';
import { formatCheckpointBody, parseCheckpointBody } from './checkpoint-body.js';
import { CheckpointError, type CheckpointErrorCode } from './checkpoint-error.js';
import { signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { signNote } from './signed-note.js';
import { noteVerifier, type Signer } from './verifier-key.js';

const fails = (code: CheckpointErrorCode) => (err: unknown) => err instanceof CheckpointError && err.code === code;
const ROOT = Buffer.alloc(32, 0x5a);
const ROOT64 = ROOT.toString('base64');

describe('checkpoint body', () => {
  it('parses the example of c2sp.org/tlog-checkpoint', () => {
    const body = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
    const cp = parseCheckpointBody(body);
    assert.equal(cp.origin, 'example.com/behind-the-sofa');
    assert.equal(cp.size, 20_852_163);
    assert.equal(cp.root.toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.deepEqual(cp.extensions, []);
    assert.equal(formatCheckpointBody(cp), body);
  });

  it('round-trips extension lines and the empty tree', () => {
    const cp = { origin: 'warden.local/audit', size: 0, root: EMPTY_ROOT, extensions: ['ext one', 'ext two'] };
    const body = formatCheckpointBody(cp);
    assert.equal(body, `warden.local/audit\n0\n${EMPTY_ROOT.toString('base64')}\next one\next two\n`);
    assert.deepEqual(parseCheckpointBody(body), cp);
  });

  it('refuses malformed bodies', () => {
    const cases: [string, string][] = [
      ['leading zero', `o\n010\n${ROOT64}\n`],
      ['zero with a leading zero', `o\n00\n${ROOT64}\n`],
      ['negative size', `o\n-1\n${ROOT64}\n`],
      ['plus sign', `o\n+1\n${ROOT64}\n`],
      ['space before size', `o\n 1\n${ROOT64}\n`],
      ['decimal point', `o\n1.0\n${ROOT64}\n`],
      ['exponent', `o\n1e3\n${ROOT64}\n`],
      ['empty size', `o\n\n${ROOT64}\n`],
      ['size past 2^53 - 1', `o\n9007199254740992\n${ROOT64}\n`],
      ['empty origin', `\n1\n${ROOT64}\n`],
      ['two lines', `o\n1\n`],
      ['short root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
      ['long root', `o\n1\n${Buffer.alloc(33).toString('base64')}\n`],
      ['unpadded root', `o\n1\n${ROOT64.replace('=', '')}\n`],
      ['base64url root', `o\n1\n${Buffer.alloc(32, 0xff).toString('base64url')}=\n`],
      ['hex root', `o\n1\n${ROOT.toString('hex')}\n`],
      ['no final newline', `o\n1\n${ROOT64}`],
      ['trailing garbage', `o\n1\n${ROOT64}\nx`],
      ['empty extension', `o\n1\n${ROOT64}\n\n`],
      ['carriage return', `o\r\n1\n${ROOT64}\n`],
    ];
    for (const [what, body] of cases) assert.throws(() => parseCheckpointBody(body), fails('CHECKPOINT_MALFORMED'), what);
  });

  it('refuses to write a checkpoint it could not parse back', () => {
    const bad = [
      { origin: '', size: 1, root: ROOT },
      { origin: 'a\nb', size: 1, root: ROOT },
      { origin: 'o', size: -1, root: ROOT },
      { origin: 'o', size: 1.5, root: ROOT },
      { origin: 'o', size: 2 ** 53, root: ROOT },
      { origin: 'o', size: 1, root: Buffer.alloc(31) },
      { origin: 'o', size: 1, root: ROOT, extensions: [''] },
      { origin: 'o', size: 1, root: ROOT, extensions: ['a\nb'] },
    ];
    for (const cp of bad) assert.throws(() => formatCheckpointBody(cp), TypeError, JSON.stringify(cp));
  });
});

describe('signCheckpoint and verifyCheckpoint', () => {
  const origin = 'warden.local/audit';
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer: Signer = { name: origin, privateKey };
  const verifier = noteVerifier(origin, publicKey);

  it('round-trip a checkpoint', () => {
    const note = signCheckpoint({ origin, size: 1_000_000, root: ROOT }, signer);
    assert.ok(note.startsWith(`${origin}\n1000000\n${ROOT64}\n\n\u2014 ${origin} `));
    assert.deepEqual(verifyCheckpoint(note, [verifier], origin), {
      origin,
      size: 1_000_000,
      root: ROOT,
      extensions: [],
      verifiedBy: [origin],
    });
  });

  it('accept a checkpoint cosigned by an unknown witness', () => {
    const witness = generateKeyPairSync('ed25519').privateKey;
    const note = signCheckpoint({ origin, size: 5, root: ROOT }, signer);
    const cosig = signCheckpoint({ origin, size: 5, root: ROOT }, { name: 'witness.example', privateKey: witness }).split('\n\n')[1]!;
    assert.equal(verifyCheckpoint(`${note}${cosig}`, [verifier]).size, 5);
  });

  it('reject a checkpoint of another log', () => {
    const note = signCheckpoint({ origin: 'warden.local/other', size: 5, root: ROOT }, signer);
    assert.throws(() => verifyCheckpoint(note, [verifier], origin), fails('CHECKPOINT_ORIGIN_MISMATCH'));
  });

  it('reject a checkpoint with a changed size or root', () => {
    const note = signCheckpoint({ origin, size: 5, root: ROOT }, signer);
    assert.throws(() => verifyCheckpoint(note.replace('\n5\n', '\n6\n'), [verifier]), fails('NOTE_BAD_SIGNATURE'));
    const otherRoot = Buffer.alloc(32, 0x5b).toString('base64');
    assert.throws(() => verifyCheckpoint(note.replace(ROOT64, otherRoot), [verifier]), fails('NOTE_BAD_SIGNATURE'));
  });

  it('reject a checkpoint signed by an unknown key', () => {
    const impostor: Signer = { name: origin, privateKey: generateKeyPairSync('ed25519').privateKey };
    const note = signCheckpoint({ origin, size: 5, root: ROOT }, impostor);
    assert.throws(() => verifyCheckpoint(note, [verifier]), fails('NOTE_UNVERIFIED'));
  });

  it('reject a validly signed note whose text is not a checkpoint', () => {
    assert.throws(() => verifyCheckpoint(signNote(`${origin}\n05\n${ROOT64}\n`, signer), [verifier]), fails('CHECKPOINT_MALFORMED'));
    assert.throws(() => verifyCheckpoint(signNote('just text\n', signer), [verifier]), fails('CHECKPOINT_MALFORMED'));
  });
});
