package listimport

import "golang.org/x/text/encoding/japanese"

// AppendWindows31J appends src, UTF-8 text, to dst in Windows-31J as Excel writes it (the IBM
// extension codes, not the NEC-selected ones), '?' for what Windows-31J cannot hold. Other
// writers of Shift_JIS files (report exports) share it with the error CSV.
func AppendWindows31J(dst, src []byte) []byte {
	return encodeSJIS(dst, src, japanese.ShiftJIS.NewEncoder())
}
