package compress

import (
	"compress/gzip"
	"io"
)

// Gzip streams r into w as gzip (zstd goes through Adaptive):
// level 3 of klauspost's gzip runs at well over 100 MB/s, ahead of any
// link a device without zstd sits on.
func Gzip(w io.Writer, r io.Reader) error {
	zw, err := gzip.NewWriterLevel(w, 3)
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, r); err != nil {
		zw.Close()
		return err
	}
	return zw.Close()
}
