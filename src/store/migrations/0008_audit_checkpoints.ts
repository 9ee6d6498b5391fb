/**
 * Signed checkpoints over the audit log (src/audit/checkpoint.ts): each one a tree size, the Merkle
 * root of the first that many entries, when it was published and its Ed25519 signature, with the
 * tree's right edge so the next one only folds in what came after. Perfect subtrees of 256 leaves
 * and up are kept too, so proofs read O(log n) of them instead of every leaf. Both tables are
 * append-only, like the log.
 */
import type { Migration } from '../migrate.ts';

export const auditCheckpoints: Migration = {
  name: '0008_audit_checkpoints',
  up: [
    `create table audit_checkpoint (
      tree_size bigint primary key check (tree_size >= 0),
      root_hash text not null check (root_hash ~ '^[0-9a-f]{64}$'),
      published_at timestamptz not null,
      key_id text not null,
      signature text not null,
      frontier jsonb not null
    )`,
    `create table audit_merkle_node (
      level smallint not null check (level >= 8 and level < 63),
      idx bigint not null check (idx >= 0),
      hash text not null check (hash ~ '^[0-9a-f]{64}$'),
      primary key (level, idx)
    )`,
    `create trigger audit_checkpoint_append_only before update or delete on audit_checkpoint
      for each row execute function refuse_change()`,
    `create trigger audit_checkpoint_no_truncate before truncate on audit_checkpoint
      for each statement execute function refuse_change()`,
    `create trigger audit_merkle_node_append_only before update or delete on audit_merkle_node
      for each row execute function refuse_change()`,
    `create trigger audit_merkle_node_no_truncate before truncate on audit_merkle_node
      for each statement execute function refuse_change()`,
  ],
};
