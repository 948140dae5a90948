import { docs, OwnershipError, type SandboxError } from '../../ownership/errors.js'
import type { TokenCheck } from '../owner-tokens.js'

/** The header a test's requests carry and the server's middleware reads. */
export const OWNER_HEADER = 'x-sqlsandbox-owner'

/** Why a request's owner token was refused: a stable name, sent in the 4xx body. */
export type RefusalReason =
  | 'unsigned-owner-id'
  | 'malformed-token'
  | 'other-sandbox'
  | 'forged-token'
  | 'expired-token'
  | 'owner-ended'

/** A request the middleware answers itself, before the app's handler runs. */
export interface RequestRefusal {
  status: 403 | 409
  reason: RefusalReason
  error: SandboxError
}

const FIX =
  'On the test side, let sqlsandbox sign every request: beforeAll(() => stampOutgoingRequests(sandbox)) ' +
  "(import { stampOutgoingRequests } from '@sqlsandbox/core/http')."
const SECTION = docs('http-servers-started-outside-the-test')

/** The refusal for every token that names no live owner of this sandbox. */
export function refusalOf(
  check: Exclude<TokenCheck, { kind: 'owner' }>,
  request: string,
  ownKeyId: string,
): RequestRefusal {
  switch (check.kind) {
    case 'unreadable':
      return check.unsigned
        ? refused(
            403,
            'unsigned-owner-id',
            `${request} names its owner with a bare id in ${OWNER_HEADER}: sqlsandbox only takes ` +
              'signed owner tokens, since a bare id can be copied from any log line. ' +
              `${FIX} Or send the headers ownerHeaders(sandbox) returns. ${SECTION}`,
          )
        : refused(
            403,
            'malformed-token',
            `${request} carries a ${OWNER_HEADER} header that is not a sqlsandbox owner token. Only ` +
              'stampOutgoingRequests(sandbox) or ownerHeaders(sandbox) should set it: do not set or ' +
              `rewrite it by hand, and let a proxy in between pass it on as it is. ${SECTION}`,
          )
    case 'other-sandbox':
      return refused(
        403,
        'other-sandbox',
        `${request} carries an owner token signed by another sandbox (key ${check.keyId}) than ` +
          `the one this server's middleware was given (key ${ownKeyId}). Each sandbox signs with ` +
          'a secret that never leaves its process: give the middleware the sandbox the test uses, ' +
          'and start the server in the test’s process (beforeAll). A server in another process ' +
          `cannot join a test’s transaction this way. ${SECTION}`,
      )
    case 'forged':
      return refused(
        403,
        'forged-token',
        `${request} carries an owner token whose signature does not match this sandbox's key: it ` +
          'was edited or made by hand. Send only the tokens stampOutgoingRequests(sandbox) or ' +
          `ownerHeaders(sandbox) make. ${SECTION}`,
      )
    case 'expired':
      return refused(
        403,
        'expired-token',
        `${request} carries an owner token that expired ${check.expiredMsAgo}ms ago (a token is ` +
          `accepted for ${check.ttlMs}ms after it is made): headers made once with ` +
          'ownerHeaders(sandbox) and reused, or a request held back that long. Make a token per ' +
          `request: stampOutgoingRequests(sandbox) does; or pass a longer ttlMs. ${SECTION}`,
      )
    case 'ended': {
      const late = check.owner?.lateError(request)
      return {
        status: 409,
        reason: 'owner-ended',
        error:
          late ??
          new OwnershipError(
            'OWNER_CHECKED_IN',
            `${request} carries the token of owner ${check.ownerId.slice(0, 8)}, which has ended: ` +
              'its transaction is rolled back, so the request is refused rather than run outside ' +
              'it. The request outlived its test: await its response before the test ends. ' +
              SECTION,
          ),
      }
    }
  }
}

function refused(status: 403 | 409, reason: RefusalReason, message: string): RequestRefusal {
  return { status, reason, error: new OwnershipError('OWNER_TOKEN_REFUSED', message) }
}
