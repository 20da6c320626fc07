package validate

import (
	"context"
)

func (w *walker) hasTx() bool { return w.v.opts.Terminology != nil && w.quiet == 0 }

// txMember asks the terminology server (Options.Terminology) whether code is in the binding's
// value set, for a code the local expansion could not decide. It returns memberYes, memberNo with
// the server's message, or memberUnknown with why the question was not answered ("" when there
// is no server, or while probing slices: probes never cause requests).
func (w *walker) txMember(b *Binding, system, code string) (membership, string) {
	if !w.hasTx() {
		return memberUnknown, ""
	}
	if system == "" {
		// a bare code: the value set's only undecidable system is the code's
		if e := w.bound(b); len(e.open) == 1 && len(e.codes) == 0 {
			for s := range e.open {
				system = s
			}
		}
	}
	ctx := w.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ans, err := w.v.opts.Terminology.ValidateCode(ctx, b.ValueSet, system, code)
	if err != nil {
		return memberUnknown, err.Error()
	}
	if ans.Result {
		return memberYes, ""
	}
	return memberNo, ans.Message
}
