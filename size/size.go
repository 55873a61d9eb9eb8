// Package size breaks a Go ELF binary down by package: how many bytes of
// the file each package's code and data take, what the function metadata
// (.gopclntab) adds, and what is left for DWARF, the symbol table and the
// ELF structure itself. Pi Zero owners care about every MB, and "the
// binary is 9 MB" says nothing about where to cut.
//
// A stripped binary (-ldflags=-s -w) has no symbols to attribute its bytes
// to; AnalyzeTwin takes a second, unstripped build of the same plan (its
// code and data sections are the same but for the build ID) and measures
// the stripped file with the twin's symbols.
package size

import (
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Part is what one package (or one non-package bucket) takes in the file.
type Part struct {
	Name string `json:"name"`
	// Code is the package's functions in .text.
	Code int64 `json:"code"`
	// Data is its symbols in the read-only and writable data sections
	// (types, strings, tables, initialised variables).
	Data int64 `json:"data"`
	// Meta is its share of .gopclntab (the function table, PC-value
	// tables and names the runtime needs for stacks and GC), spread over
	// packages by code size: the table's size follows the code it
	// describes.
	Meta  int64 `json:"meta"`
	Total int64 `json:"total"`
}

// Breakdown is the whole file: packages plus the buckets that belong to no
// package. Packages and Other together add up to FileSize.
type Breakdown struct {
	Path     string `json:"path"`
	FileSize int64  `json:"file_size"`
	Stripped bool   `json:"stripped"`
	// Twin is the unstripped build whose symbols attributed a stripped
	// file's bytes ("" when the file had its own symbols).
	Twin     string `json:"twin,omitempty"`
	Packages []Part `json:"packages"` // largest first
	Other    []Part `json:"other"`    // largest first
}

// Sum is what the breakdown accounts for; it equals FileSize up to the
// rounding of the spread metadata.
func (b *Breakdown) Sum() int64 {
	var n int64
	for _, p := range b.Packages {
		n += p.Total
	}
	for _, p := range b.Other {
		n += p.Total
	}
	return n
}

// Top returns the n largest packages and one "other packages" part for
// the rest (nil when there is no rest).
func (b *Breakdown) Top(n int) (top []Part, rest *Part) {
	if len(b.Packages) <= n {
		return b.Packages, nil
	}
	r := Part{Name: fmt.Sprintf("%d other packages", len(b.Packages)-n)}
	for _, p := range b.Packages[n:] {
		r.Code += p.Code
		r.Data += p.Data
		r.Meta += p.Meta
		r.Total += p.Total
	}
	return b.Packages[:n], &r
}

// Names of the buckets that are no package's.
const (
	BucketDWARF     = "DWARF debug info"
	BucketSymtab    = "symbol table"
	BucketELF       = "ELF headers and padding"
	BucketRuntime   = "go: runtime metadata"
	BucketUnknown   = "(unattributed)"
	BucketNoPackage = "(assembly and C, no package)"
	BucketTypes     = "type descriptors, all packages"
	BucketStrings   = "string literals, all packages"
	bucketSections  = "other sections"
)

// Analyze breaks down a binary that has its symbol table. A stripped one
// comes back with Stripped set and every byte of code and data in
// BucketUnknown; use AnalyzeTwin for it.
func Analyze(path string) (*Breakdown, error) {
	return analyze(path, path)
}

// AnalyzeTwin breaks down stripped using the symbols of twin, an
// unstripped build of the same package with the same settings otherwise.
func AnalyzeTwin(stripped, twin string) (*Breakdown, error) {
	b, err := analyze(stripped, twin)
	if err != nil {
		return nil, err
	}
	b.Twin = twin
	return b, nil
}

// analyze measures the sections of path and attributes them with the
// symbols of symPath (the same file, or its unstripped twin).
func analyze(path, symPath string) (*Breakdown, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("size of %s: %w", path, err)
	}
	defer f.Close()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("size of %s: %w", path, err)
	}
	syms, stripped, err := symbolsOf(f, path, symPath)
	if err != nil {
		return nil, err
	}
	a := newAccount()
	var inSections int64
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL {
			continue
		}
		n := fileBytes(s)
		inSections += n
		a.section(s, n, syms[s.Name])
	}
	a.spreadMeta()
	a.other(BucketELF, st.Size()-inSections)
	return &Breakdown{
		Path:     path,
		FileSize: st.Size(),
		Stripped: stripped,
		Packages: a.sorted(a.pkgs),
		Other:    a.sorted(a.buckets),
	}, nil
}

// fileBytes is what a section occupies in the file: a compressed DWARF
// section's stored size, not its uncompressed one.
func fileBytes(s *elf.Section) int64 {
	if s.Flags&elf.SHF_COMPRESSED != 0 {
		return int64(s.FileSize)
	}
	return int64(s.Size)
}

// symbolsOf returns the sized symbols of symPath by section name, and
// whether path itself is stripped.
func symbolsOf(f *elf.File, path, symPath string) (map[string][]symbol, bool, error) {
	_, err := f.Symbols()
	stripped := err != nil
	if symPath == path && stripped {
		return nil, true, nil
	}
	src := f
	if symPath != path {
		tf, err := elf.Open(symPath)
		if err != nil {
			return nil, stripped, fmt.Errorf("size: unstripped twin %s: %w", symPath, err)
		}
		defer tf.Close()
		src = tf
	}
	all, err := src.Symbols()
	if err != nil {
		return nil, stripped, fmt.Errorf("size: symbols of %s: %w", symPath, err)
	}
	out := map[string][]symbol{}
	for _, s := range all {
		if int(s.Section) <= 0 || int(s.Section) >= len(src.Sections) {
			continue
		}
		sec := src.Sections[s.Section]
		if s.Value < sec.Addr {
			continue
		}
		// Offsets within the section, so a twin's symbols measure the
		// stripped file's section even if the two were laid out at
		// other addresses.
		out[sec.Name] = append(out[sec.Name], symbol{name: s.Name, off: s.Value - sec.Addr, size: s.Size})
	}
	return out, stripped, nil
}

type symbol struct {
	name      string
	off, size uint64 // off from the start of its section
}

// account adds up bytes per package and per bucket.
type account struct {
	pkgs    map[string]*Part
	buckets map[string]*Part
	meta    int64 // .gopclntab bytes to spread over the packages' code
}

func newAccount() *account {
	return &account{pkgs: map[string]*Part{}, buckets: map[string]*Part{}}
}

func (a *account) part(m map[string]*Part, name string) *Part {
	p := m[name]
	if p == nil {
		p = &Part{Name: name}
		m[name] = p
	}
	return p
}

func (a *account) other(name string, n int64) {
	if n > 0 {
		p := a.part(a.buckets, name)
		p.Data += n
		p.Total += n
	}
}

// section attributes one section's n file bytes: DWARF and the symbol
// table wholesale, .gopclntab to be spread, code and data by symbol, and
// what no symbol covers (alignment, unnamed data) to the unattributed
// bucket.
func (a *account) section(s *elf.Section, n int64, syms []symbol) {
	switch {
	case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
		a.other(BucketDWARF, n)
		return
	case s.Name == ".shstrtab":
		a.other(BucketELF, n)
		return
	case s.Name == ".symtab" || s.Name == ".strtab":
		a.other(BucketSymtab, n)
		return
	case s.Name == ".gopclntab":
		a.meta += n
		return
	case s.Flags&elf.SHF_ALLOC == 0:
		a.other(bucketSections, n)
		return
	}
	covered := a.symbols(s, n, syms)
	a.other(BucketUnknown, n-covered)
}

// symbols attributes the symbols of one section, clipped to the section
// and to each other (aliases and overlaps count once), and returns how
// many of the section's n bytes they cover. The linker groups types and
// string literals behind one zero-sized marker ("type:*", "go:string.*")
// without per-package symbols; the bytes after such a marker that no
// sized symbol claims go to the marker's bucket.
func (a *account) symbols(s *elf.Section, n int64, syms []symbol) int64 {
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].off < syms[j].off })
	end := uint64(n)
	var next uint64 // first byte not yet attributed
	region := ""    // bucket of the last marker passed
	var covered int64
	claimGap := func(upTo uint64) {
		if region != "" && upTo > next {
			gap := int64(min(upTo, end) - next)
			a.other(region, gap)
			covered += gap
			next = min(upTo, end)
		}
	}
	for _, sym := range syms {
		if sym.size == 0 {
			if b, ok := markerBuckets[sym.name]; ok && sym.off >= next {
				claimGap(sym.off)
				next = max(next, sym.off)
				region = b
			}
			continue
		}
		claimGap(sym.off)
		lo, hi := max(sym.off, next), min(sym.off+sym.size, end)
		if hi <= lo {
			continue
		}
		next, covered = hi, covered+int64(hi-lo)
		a.symbol(s, sym.name, int64(hi-lo))
	}
	claimGap(end)
	return covered
}

// markerBuckets names the regions that start at a zero-sized marker
// symbol and hold data of many packages without symbols of their own.
var markerBuckets = map[string]string{
	"type:*":           BucketTypes,
	"go:string.*":      BucketStrings,
	"go:funcdesc":      BucketRuntime,
	"runtime.gcbits.*": BucketRuntime,
}

func (a *account) symbol(s *elf.Section, name string, size int64) {
	pkg, isPkg := PackageOf(name)
	if !isPkg {
		a.other(pkg, size)
		return
	}
	p := a.part(a.pkgs, pkg)
	if s.Flags&elf.SHF_EXECINSTR != 0 {
		p.Code += size
	} else {
		p.Data += size
	}
	p.Total += size
}

// spreadMeta gives each package its share of .gopclntab in proportion to
// its code; with no code attributed (a stripped file without a twin) the
// table stays one bucket.
func (a *account) spreadMeta() {
	var code int64
	for _, p := range a.pkgs {
		code += p.Code
	}
	if code == 0 {
		a.other(".gopclntab", a.meta)
		return
	}
	var given int64
	var largest *Part
	for _, p := range a.pkgs {
		p.Meta = a.meta * p.Code / code
		p.Total += p.Meta
		given += p.Meta
		if largest == nil || p.Code > largest.Code || (p.Code == largest.Code && p.Name < largest.Name) {
			largest = p
		}
	}
	// The rounding remainder goes to the largest package, so the parts
	// add up to the file exactly.
	largest.Meta += a.meta - given
	largest.Total += a.meta - given
}

func (a *account) sorted(m map[string]*Part) []Part {
	out := make([]Part, 0, len(m))
	for _, p := range m {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// PackageOf names the package a Go symbol belongs to, or, when it belongs
// to none (runtime metadata, assembly helpers, C), the bucket it goes to
// and false. It follows the linker's naming: "pkg/path.Func",
// "pkg.(*T).M", "pkg.F[go.shape.int]", "type:*pkg.T", "type:.eq.[4]pkg.T",
// "go:itab.*pkg.T,io.Writer", "go:string.*", and %-escaped dots in the
// last path element ("v1%2e0").
func PackageOf(sym string) (string, bool) {
	name := sym
	switch {
	case strings.HasPrefix(name, "go:itab."):
		name = strings.TrimPrefix(name, "go:itab.")
		name, _, _ = strings.Cut(name, ",")
	case strings.HasPrefix(name, "go:") || strings.HasPrefix(name, "$"):
		return BucketRuntime, false
	case strings.HasPrefix(name, "type:"):
		name = strings.TrimPrefix(name, "type:")
		name = strings.TrimPrefix(name, ".eq.")
		name = strings.TrimPrefix(name, ".hash.")
	}
	name = strings.TrimLeft(name, "*[]0123456789")
	name = strings.TrimPrefix(name, "map[")
	if i := strings.IndexAny(name, "[,"); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot <= 0 || strings.ContainsAny(name[:slash+1+dot], " []") {
		return BucketNoPackage, false // assembly helpers (aeshashbody), C symbols
	}
	return strings.ReplaceAll(name[:slash+1+dot], "%2e", "."), true
}

// Part is the size of the package or bucket called name, 0 when the
// binary has none.
func (b *Breakdown) Part(name string) int64 {
	for _, ps := range [][]Part{b.Packages, b.Other} {
		for _, p := range ps {
			if p.Name == name {
				return p.Total
			}
		}
	}
	return 0
}

// PackagesExcept is the size of every package not in listed: the "other
// packages" row beside a list of the largest.
func (b *Breakdown) PackagesExcept(listed map[string]bool) int64 {
	var n int64
	for _, p := range b.Packages {
		if !listed[p.Name] {
			n += p.Total
		}
	}
	return n
}
