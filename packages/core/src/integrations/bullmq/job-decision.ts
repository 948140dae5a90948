import type { Owner } from '../../ownership/owner.js'
import type { TokensCheck } from '../owner-tokens.js'

type Refused = Extract<TokensCheck, { kind: 'refused' }>

/** What a worker does with a job, given what each sandbox it joins makes of the job's tokens. */
export type JobDecision<S> =
  | { kind: 'unstamped' }
  | { kind: 'owners'; owners: { sandbox: S; owner: Owner }[] }
  | { kind: 'refused'; sandbox: S; refusal: Refused }

/**
 * A stamped job runs only as owners its tokens name, and never while one of its tokens is
 * refused for a reason other than belonging to another sandbox: a token of this process's
 * sandbox that is forged, expired or of an ended owner stops the job even if another token
 * would let it in. A job whose tokens all belong to sandboxes this process does not join came
 * from another process: refused too, never run unowned.
 */
export function decideJob<S>(
  stamped: boolean,
  checks: readonly { sandbox: S; check: TokensCheck }[],
): JobDecision<S> {
  if (!stamped) return { kind: 'unstamped' }
  const owners: { sandbox: S; owner: Owner }[] = []
  let foreign: { sandbox: S; refusal: Refused } | undefined
  for (const { sandbox, check } of checks) {
    if (check.kind === 'owner') owners.push({ sandbox, owner: check.owner })
    else if (check.kind === 'refused' && check.check.kind !== 'other-sandbox') {
      return { kind: 'refused', sandbox, refusal: check }
    } else if (check.kind === 'refused') foreign ??= { sandbox, refusal: check }
  }
  if (owners.length > 0) return { kind: 'owners', owners }
  if (foreign) return { kind: 'refused', ...foreign }
  // Stamped, and no sandbox joined here made anything of it (none registered).
  return { kind: 'unstamped' }
}
