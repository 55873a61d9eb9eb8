//go:build !unix

package atomicfile

// syncDir does nothing where a folder cannot be opened and synced
// (Windows among them): the rename is as durable as the system makes it.
func syncDir(string) error { return nil }
