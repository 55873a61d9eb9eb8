package send

// registry is every way of sending a file, in the order they are tried:
// the first that applies sends it. A new way is a type in a file of its
// own and a line here.
func registry() []Way {
	return []Way{
		skip{},       // the device already has this very binary
		elfzDelta{},  // a delta between the expanded forms, rebuilt by the helper
		patchDelta{}, // a zstd patch-from delta against the installed binary
		stream{},     // the whole file through the device's zstd or gzip
		sftpFile{},   // the whole file over sftp, for a device with neither
	}
}
