// Package install is the install of a binary on a device: the names of
// the files a deploy writes in deploy_dir (and refuses as binary names),
// the shell scripts a device runs (the prepare round trip, the install
// that receives, verifies and renames a binary atomically, the rollback),
// and the streaming of a file into a running install script, whose
// markers say which step it is in.
package install
