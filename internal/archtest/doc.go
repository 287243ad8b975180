// Package archtest holds no code, only tests of the project's architecture: which
// packages the production processes may depend on (style.md: arrows point inward,
// dev harnesses stay out of what ships).
package archtest
