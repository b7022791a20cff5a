/**
 * Property names that say their value names a party: who a message, payment or invitation
 * goes to or comes from, or the place it is posted. Under such a name a short plain word
 * (`"user": "quentin"`, `sender: Mirela`) is a name worth tracking; elsewhere a short word is far
 * more often an enum, a mode or a label (`"format": "json"`), and tracking it would only flag
 * innocent calls.
 */

const PARTY_WORDS = new Set([
  'user', 'users', 'username', 'usernames', 'login', 'handle', 'handles', 'nick', 'nickname',
  'recipient', 'recipients', 'to', 'cc', 'bcc', 'from', 'sender', 'senders',
  'author', 'authors', 'owner', 'owners', 'assignee', 'assignees', 'reviewer', 'reviewers',
  'member', 'members', 'participant', 'participants', 'attendee', 'attendees', 'invitee', 'invitees',
  'contact', 'contacts', 'mention', 'mentions', 'payee', 'beneficiary', 'channel', 'channels',
]);

/**
 * True when a property name has a word naming a party: `user`, `recipient_name`, `toUser`,
 * `sender-id`. Names are split at `_`, `-`, `.`, spaces and camelCase humps.
 */
export function isPartyKey(key: string): boolean {
  if (key.length === 0 || key.length > 64) return false;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => PARTY_WORDS.has(w));
}
