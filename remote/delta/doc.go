// Package delta makes the deltas a redeploy sends instead of the whole
// binary, and keeps what they are made against.
//
// A redeploy sends a zstd frame that uses the binary already on the
// device as a raw-content dictionary: zstd's "patch-from" mode, which the
// device's own `zstd -d --patch-from=OLD` (zstd 1.4.5 and later) decodes.
// It takes no helper on the device and no format of our own; the install
// script then checks the sha256 of the rebuilt file exactly as it checks
// a full upload, so a wrong base can never be installed.
//
// The sender needs the bytes of the device's binary, so every deploy keeps
// a copy of what it installed, named by its sha256 (Cache). The
// device reports the sha256 of its binary in the prepare step; only a
// local copy with that very hash is used as the base.
//
// The Go linker zlib-compresses DWARF, so after a one-line change the
// compressed sections of a default-profile binary differ from the change
// on and a plain delta is a quarter of the binary. With a helper on the
// device (remote.Options.ELFZHelper) the delta goes between the expanded forms
// instead (package codec: those sections inflated): the device expands
// its binary into a base, applies the delta to it with its own zstd, and
// the helper compresses the sections again, byte for byte as the linker
// did. The install script checks the sha256 of the result as always.
package delta
