package image

import "armbench/build"

// Event is one thing that happened while an image was built, written or
// pushed. The CLI prints events; a TUI would turn them into messages.
type Event interface{ imageEvent() }

// Building forwards an event of one platform's go build.
type Building struct {
	Platform string // "linux/arm/v7"
	Target   string
	Profile  string
	Event    build.Event
}

// Layer is sent when a platform's binary has become a layer.
type Layer struct {
	Platform string
	Digest   string // sha256:… of the compressed layer
	DiffID   string // sha256:… of the uncompressed tar
	Size     int64  // compressed bytes
	Path     string // where the binary sits in the image
}

// Image is sent when a platform's image (manifest and config) is complete.
type Image struct {
	Platform string
	Digest   string
}

// Index is sent once the multi-platform index is assembled: its digest is
// what a registry, the layout directory and the manifest name.
type Index struct {
	Digest    string
	Platforms []string
}

// Written is sent when the index is in an OCI layout directory.
type Written struct {
	Dir     string
	RefName string // the layout's org.opencontainers.image.ref.name
	Digest  string
}

// Progress reports bytes uploaded while pushing, at most a few times a
// second and once at the end.
type Progress struct {
	Complete, Total int64
}

// Pushed is sent when the index is in the registry.
type Pushed struct {
	Ref    string // the reference pushed to (a tag, usually)
	Digest string // repository@sha256:… — what to deploy
}

func (Building) imageEvent() {}
func (Layer) imageEvent()    {}
func (Image) imageEvent()    {}
func (Index) imageEvent()    {}
func (Written) imageEvent()  {}
func (Progress) imageEvent() {}
func (Pushed) imageEvent()   {}
