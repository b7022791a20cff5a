/** The config `warden init` writes: every setting at its default, commented for people. */
export const DEMO_CONFIG = `# Warden configuration. Every key is optional; unknown keys are errors.
server:
  # host: 127.0.0.1          # or --host / WARDEN_HOST
  # port: 7070               # or --port / WARDEN_PORT
  # publicUrl: https://warden.example.com   # what agents use; issuer, audience and DPoP htu derive from it
  bodyLimit: 1048576         # bytes

# database:
#   url: postgres://warden@db.internal/warden   # or --database / WARDEN_DATABASE_URL; default: SQLite in the data dir

tokens:
  accessTokenTtlSec: 900     # access tokens live at most 15 minutes
  clockSkewSec: 5
  dpopMaxAgeSec: 60          # oldest accepted DPoP proof
  clientAssertionMaxAgeSec: 300

tasks:
  defaultLifetimeSec: 3600

oidc:
  # ID tokens from these issuers may prove the person an agent acts for (token exchange).
  issuers: []
  # - issuer: https://accounts.example.com
  #   audience: warden
  #   jwksUri: https://accounts.example.com/.well-known/jwks.json

secrets:
  # Seals upstream credentials; never stored in the database. Created on first start.
  # WARDEN_MASTER_KEY (32 bytes, base64 or base64url) wins over the file. Replicas that share
  # a database must share the key.
  masterKeyFile: keys/master.key   # relative to the data directory
`;
