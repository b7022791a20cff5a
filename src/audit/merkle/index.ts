export { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash } from './hash.js';
export { NodeUnavailable, type NodeSource } from './node-source.js';
export { subtreeHash, treeRoot } from './tree-hash.js';
export { inclusionProof, verifyInclusion } from './inclusion-proof.js';
export { consistencyProof, verifyConsistency } from './consistency-proof.js';
export { CompactRange, type OnComplete } from './compact-range.js';
