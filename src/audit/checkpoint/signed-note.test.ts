import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { CheckpointError, type CheckpointErrorCode } from './checkpoint-error.js';
import { openNote, signNote } from './signed-note.js';
import { keyId, noteVerifier, parseVerifierKey, verifierKey, type Signer } from './verifier-key.js';

function newKey(name: string): { signer: Signer; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { signer: { name, privateKey }, publicKey };
}

const fails = (code: CheckpointErrorCode) => (err: unknown) => err instanceof CheckpointError && err.code === code;

// The example of golang.org/x/mod/sumdb/note (example_test.go, ExampleOpen): a verifier key
// and a note it signed. Only the public half is used; the repository holds no private key.
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const PETER_NOTE = `${PETER_TEXT}\n\u2014 PeterNeumann ${PETER_SIG}\n`;

describe('verifier keys', () => {
  it('parse the Go example key and write it back identically', () => {
    const v = parseVerifierKey(PETER_VKEY);
    assert.equal(v.name, 'PeterNeumann');
    assert.equal(v.keyId, 0xc74f20a3);
    assert.equal(verifierKey(v.name, v.publicKey), PETER_VKEY);
  });

  it('derive the key ID as SHA-256(name || 0x0A || 0x01 || public key)[:4]', () => {
    const { publicKey } = newKey('example.com/log');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const digest = createHash('sha256').update(Buffer.concat([Buffer.from('example.com/log\n\x01', 'latin1'), raw])).digest();
    assert.equal(keyId('example.com/log', publicKey), digest.readUInt32BE(0));
    const vkey = verifierKey('example.com/log', publicKey);
    assert.equal(vkey.split('+')[1], digest.subarray(0, 4).toString('hex'));
    assert.equal(parseVerifierKey(vkey).keyId, digest.readUInt32BE(0));
  });

  it('refuse a key whose ID does not match, or that is malformed', () => {
    const cases: [string, string][] = [
      ['PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'key ID does not match name and key'],
      ['PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'key ID does not match name and key'],
      ['PeterNeumann+c74f20a3+AhpcZ2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', 'unsupported signature type'],
      ['PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy', 'an Ed25519 key is 32 bytes'],
      ['PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'key ID is not 8 hex digits'],
      ['PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW', 'key is not base64'],
      ['Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'invalid key name'],
      ['+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'invalid key name'],
      ['PeterNeumann+c74f20a3', 'expected <name>+<id>+<key>'],
    ];
    for (const [vkey, reason] of cases) {
      assert.throws(
        () => parseVerifierKey(vkey),
        (err: unknown) => fails('VKEY_MALFORMED')(err) && (err as CheckpointError).details?.reason === reason,
        vkey,
      );
    }
  });

  it('refuse names with spaces or plus signs, and keys that are not Ed25519', () => {
    const { publicKey } = newKey('x');
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\nb', 'a\u2028b']) {
      assert.throws(() => noteVerifier(name, publicKey), TypeError, name);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    assert.throws(() => noteVerifier('x', rsa), TypeError);
  });
});

describe('signNote and openNote', () => {
  const log = newKey('example.com/log');
  const logVerifier = noteVerifier('example.com/log', log.publicKey);

  it('round-trip a note', () => {
    const text = 'hello\nworld\n';
    const note = signNote(text, log.signer);
    assert.match(note, /^hello\nworld\n\n\u2014 example\.com\/log [A-Za-z0-9+/]{91}=\n$/);
    assert.deepEqual(openNote(note, [logVerifier]), { text, verifiedBy: ['example.com/log'] });
    assert.deepEqual(openNote(Buffer.from(note), [logVerifier]).text, text);
  });

  it('open the Go example note with its published verifier key', () => {
    assert.deepEqual(openNote(PETER_NOTE, [parseVerifierKey(PETER_VKEY)]), { text: PETER_TEXT, verifiedBy: ['PeterNeumann'] });
  });

  it('keep blank lines of the text, splitting at the last one', () => {
    const text = 'Ognuno sta solo sul cuor della terra\n\ned è subito sera.\n\n';
    assert.equal(openNote(signNote(text, log.signer), [logVerifier]).text, text);
  });

  it('reject a note whose text was changed', () => {
    const note = signNote('size 10\n', log.signer).replace('size 10', 'size 11');
    assert.throws(() => openNote(note, [logVerifier]), fails('NOTE_BAD_SIGNATURE'));
    const peter = parseVerifierKey(PETER_VKEY);
    assert.throws(() => openNote(PETER_NOTE.replace('cryptography', 'Cryptography'), [peter]), fails('NOTE_BAD_SIGNATURE'));
    // A blank line among the signatures moves the split: the first signature becomes text.
    const sigLine = note.split('\n')[2]!;
    assert.throws(() => openNote(`${signNote('size 10\n', log.signer)}\n${sigLine}\n`, [logVerifier]), fails('NOTE_BAD_SIGNATURE'));
  });

  it('reject a signature that claims a known name and key ID but does not verify', () => {
    const note = signNote('a\n', log.signer);
    const forged = newKey('example.com/log');
    const other = signNote('a\n', forged.signer).split('\n').at(-2)!;
    const sig = Buffer.from(other.split(' ')[2]!, 'base64');
    sig.writeUInt32BE(logVerifier.keyId, 0);
    const claimed = `a\n\n\u2014 example.com/log ${sig.toString('base64')}\n`;
    assert.throws(() => openNote(claimed, [logVerifier]), fails('NOTE_BAD_SIGNATURE'));
    // Even when another trusted key's signature verifies.
    assert.throws(() => openNote(`${note}${claimed.split('\n\n')[1]}`, [logVerifier]), fails('NOTE_BAD_SIGNATURE'));
  });

  it('find no signature by a known key when the key or the name differ', () => {
    const note = signNote('a\n', log.signer);
    const other = newKey('example.com/log');
    assert.throws(() => openNote(note, [noteVerifier('example.com/log', other.publicKey)]), fails('NOTE_UNVERIFIED'));
    assert.throws(() => openNote(note, [noteVerifier('example.com/other', log.publicKey)]), fails('NOTE_UNVERIFIED'));
    assert.throws(() => openNote(note, []), fails('NOTE_UNVERIFIED'));
  });

  it('ignore signatures by unknown keys when a known one verifies', () => {
    const witness = newKey('witness.example/w1');
    const stranger = newKey('example.com/log'); // same name, other key: another key ID
    const text = 'a\n';
    const line = (n: string) => n.slice(text.length + 1);
    const note = `${text}\n${[witness, log, stranger].map((k) => line(signNote(text, k.signer))).join('')}`;
    assert.deepEqual(openNote(note, [logVerifier]).verifiedBy, ['example.com/log']);
    const both = openNote(note, [logVerifier, noteVerifier('witness.example/w1', witness.publicKey)]);
    assert.deepEqual([...both.verifiedBy].sort(), ['example.com/log', 'witness.example/w1']);
    // A signature from an unknown key that would not verify is not even looked at.
    const junk = `\u2014 nobody ${Buffer.alloc(68, 7).toString('base64')}\n`;
    assert.equal(openNote(`${signNote(text, log.signer)}${junk}`, [logVerifier]).text, text);
  });

  it('reject malformed notes', () => {
    const good = signNote('a\n', log.signer);
    const sigLine = good.split('\n')[2]!;
    const b64 = sigLine.split(' ')[2]!;
    const cases: [string, string][] = [
      ['no blank line', good.replace('a\n\n', 'a\n')],
      ['no final newline', good.slice(0, -1)],
      ['nothing after the blank line', 'a\n\n'],
      ['hyphen for em dash', good.replace('\u2014', '-')],
      ['two spaces', good.replace(' ', '  ')],
      ['trailing space', good.replace('=\n', '= \n')],
      ['name with plus', good.replace('example.com/log', 'example.com+log')],
      ['base64 not canonical', good.replace(b64, b64.replace(/=$/, ''))],
      ['signature too short', `a\n\n\u2014 example.com/log ${Buffer.alloc(4).toString('base64')}\n`],
      ['text after the signatures', `${good}trailing`],
      ['carriage return', good.replace('a\n', 'a\r\n')],
      ['NUL byte', good.replace('a\n', 'a\u0000\n')],
      ['lone surrogate', good.replace('a\n', '\ud800\n')],
      ['too many signatures', `a\n\n${`${sigLine}\n`.repeat(101)}`],
    ];
    for (const [what, note] of cases) assert.throws(() => openNote(note, [logVerifier]), fails('NOTE_MALFORMED'), what);
    assert.throws(() => openNote(Buffer.from([0x61, 0x0a, 0x0a, 0xff, 0x0a]), [logVerifier]), fails('NOTE_MALFORMED'));
    // Sixteen signatures, the spec's floor, are accepted.
    assert.equal(openNote(`a\n\n${`${sigLine}\n`.repeat(16)}`, [logVerifier]).text, 'a\n');
  });

  it('refuse verifiers it did not make', () => {
    const note = signNote('a\n', log.signer);
    const handmade = { name: logVerifier.name, keyId: logVerifier.keyId, publicKey: log.publicKey };
    assert.throws(() => openNote(note, [handmade]), TypeError);
  });

  it('refuse to sign text a note cannot hold, or with a key that is not an Ed25519 private key', () => {
    for (const text of ['', 'no newline', 'tab\there\n', 'cr\r\n', '\udc00\n']) {
      assert.throws(() => signNote(text, log.signer), TypeError, JSON.stringify(text));
    }
    assert.throws(() => signNote('a\n', { name: 'bad name', privateKey: log.signer.privateKey }), TypeError);
    assert.throws(() => signNote('a\n', { name: 'x', privateKey: log.publicKey }), TypeError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    assert.throws(() => signNote('a\n', { name: 'x', privateKey: rsa }), TypeError);
  });
});
