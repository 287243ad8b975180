// Package updateauth proves to the worker that a workflow Update comes from the
// Tierflow API.
//
// The case workflow's Updates (open, decide, report-customer-event, survey-response)
// act as the principal their payload names. The API has authenticated that
// principal; anyone else who can reach Temporal (the CLI's `temporal workflow
// update execute`, the UI, an SDK client) could name any principal. So the API's
// Temporal client signs every Update it sends (ClientInterceptor), and the worker
// refuses, in the Update's validation, every Update that does not carry a valid
// signature (WorkerInterceptor). Operators who must act on a case without the API
// send the `decision` Signal, which the workflow checks against the staff
// directory. Signals and queries are not touched.
//
// # The header
//
// The signature travels in the Update's Temporal header under HeaderKey, as a JSON
// payload {"v":"v1","iat":<issued at, Unix milliseconds>,"mac":"<base64url>"}. It
// holds no customer data (headers are not encrypted by the payload codec), only
// the version, the time and the MAC.
//
// # The canonical message, version v1
//
// The MAC is HMAC-SHA256 under the update key (below) over the concatenation of
// six fields, each written as its length in bytes in decimal, a colon, the bytes
// and a newline ("2:v1\n6:decide\n..."), in this order:
//
//  1. the version, "v1";
//  2. the Update's name;
//  3. the Update's ID (the SDK fills in a random one when the caller gives none);
//  4. the workflow ID;
//  5. the issued-at time, Unix milliseconds in decimal;
//  6. the Update's arguments as JSON: the JSON array of their Go values
//     (tierflow.Decision, tierflow.CustomerEvent, tierflow.SurveyResponse) written
//     by encoding/json, read back as generic JSON values (numbers as written) and
//     written again, compact, object keys sorted.
//
// The worker rebuilds field 6 from the arguments the SDK decoded for the handler,
// so the sender's and the worker's Go types must marshal the same JSON.
// A field added to one of these types must therefore be `omitempty` and reach the
// worker before the API sends it (deploy the worker first), or Updates carrying it
// are refused until the worker knows it.
//
// # Keys
//
// The update key is HMAC-SHA256(surveyKey, "tierflow/update-auth/v1"): derived from
// the survey signing keys the API and the worker already share, and separated from
// their use for survey links. The first survey key signs, every configured key
// verifies, so the survey keys rotate as they do for links: deploy both processes
// with [old, new] (old signs, both verify), then with [new, old], then [new].
//
// # Freshness and replay
//
// The worker refuses a signature issued more than MaxAge ago or more than MaxSkew
// in the future, by its own clock. The header is stored in history with an
// accepted Update, so someone who can read history may resend that exact Update
// (same workflow, name, ID and arguments) within MaxAge: Temporal deduplicates it
// by its Update ID, and the workflow deduplicates decisions by decision ID.
//
// # Determinism
//
// The check runs in WorkflowInboundInterceptor.ValidateUpdate, which the SDK does
// not run while replaying (internal_update.go: "we don't execute update validation
// during replay so that validation routines can change across versions"). A
// refused Update leaves no event in history, and an accepted one is replayed
// without validation, so reading the wall clock here does not affect replay, and
// adding the check needs no workflow version patch.
package updateauth
