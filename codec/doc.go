// Package codec encrypts what Tierflow stores in Temporal: every payload (workflow
// and activity inputs and results, Update arguments, the memo, user metadata such
// as static summaries and timer summaries) and, through the failure converter,
// the message and stack trace of every failure. Temporal's history then holds
// ciphertext only; the customer's name, email and description are readable by the
// processes that hold the keys (the worker and the API) and by authorised
// operators through the codec endpoint the API serves (Temporal's remote codec
// protocol, used by the Temporal UI and `temporal --codec-endpoint`).
//
// A payload is encrypted with AES-256-GCM under a random 96-bit nonce. The sealed
// payload's metadata says how to open it:
//
//	encoding:          binary/encrypted
//	encryption-key-id: <the ID of the key that sealed it>
//
// and its data is nonce || ciphertext || tag, where the plaintext is the original
// payload (metadata and data) in protobuf form and the key ID is the additional
// authenticated data.
//
// Keys come from TIERFLOW_CODEC_KEYS, a comma-separated list of `id:base64key`
// entries: the first (newest) key encrypts, every key decrypts, so a key is
// rotated by putting a new one in front and keeping the old ones for as long as
// histories sealed with them are retained.
//
// Decode passes through any payload that is not sealed by this codec, so that
// histories written before encryption was turned on (cases in flight, the replay
// fixtures) keep working. A sealed payload whose key is unknown, or whose
// ciphertext fails authentication, is an error: never silently garbage.
//
// Search attributes are never encrypted (Temporal must index them): they must not
// hold personal data.
package codec
