package reports

import (
	"fmt"
	"sort"
	"time"

	"github.com/pacheck/pacheck/checks/evidence"
)

// dqCharts are the charts of the member's data drawn from the data-quality evidence
// (evidence.KindDataQuality, suites/dataquality): completeness bars per must-support element of
// each profile, a timeline of the data per resource type, and the counts of findings. Inline
// SVG drawn by the template; every label is text, escaped by html/template.
type dqCharts struct {
	Profiles     []dqProfile
	Timeline     *dqTimeline
	Counts       []dqCount
	CountsHeight int
}

type dqProfile struct {
	Profile   string
	Resources int
	Height    int
	Rows      []dqBar
}

// dqBar is one horizontal bar: Label at the left, a bar of width W (of chartBarW) at chartBarX,
// Text at the right.
type dqBar struct {
	Label string
	Y     int
	W     string
	Text  string
	Full  bool // the whole bar: every resource (completeness) — drawn in the pass colour
}

type dqTimeline struct {
	Height int
	Ticks  []dqTick
	Rows   []dqSpan
}

type dqTick struct {
	X    string
	Year int
}

type dqSpan struct {
	Label string
	Y     int
	X, W  string
	Text  string
}

type dqCount struct {
	Title string // the spec's figure group ("duplicates")
	Label string
	N     int
	Y     int
	W     string // bar width, of chartBarW, relative to the largest count
}

// dataQualityCharts gathers the data-quality evidence of the specs; nil when there is none.
func dataQualityCharts(specs []Spec) *dqCharts {
	var ch dqCharts
	var spans []evidence.TypeTimeline
	for _, s := range specs {
		for _, e := range s.Evidence {
			if e.Kind != evidence.KindDataQuality || e.DataQuality == nil {
				continue
			}
			dq := e.DataQuality
			for _, pc := range dq.Completeness {
				ch.Profiles = append(ch.Profiles, completenessChart(pc))
			}
			spans = append(spans, dq.Timeline...)
			keys := keysOf(dq.Counts)
			sort.Strings(keys)
			for _, k := range keys {
				ch.Counts = append(ch.Counts, dqCount{Title: e.Title, Label: k, N: dq.Counts[k]})
			}
		}
	}
	ch.Timeline = timelineChart(spans)
	most := 0
	for _, c := range ch.Counts {
		most = max(most, c.N)
	}
	for i := range ch.Counts {
		ch.Counts[i].Y = i * chartRowH
		if most > 0 {
			ch.Counts[i].W = f2(float64(chartBarW) * float64(max(ch.Counts[i].N, 0)) / float64(most))
		} else {
			ch.Counts[i].W = "0"
		}
	}
	ch.CountsHeight = len(ch.Counts)*chartRowH + 4
	if len(ch.Profiles) == 0 && ch.Timeline == nil && len(ch.Counts) == 0 {
		return nil
	}
	return &ch
}

func completenessChart(pc evidence.ProfileCompleteness) dqProfile {
	p := dqProfile{Profile: pc.Profile, Resources: pc.Resources}
	for i, el := range pc.Elements {
		share := 0.0
		if pc.Resources > 0 {
			share = float64(min(max(el.Present, 0), pc.Resources)) / float64(pc.Resources)
		}
		p.Rows = append(p.Rows, dqBar{Label: el.Element, Y: i * chartRowH, W: f2(float64(chartBarW) * share),
			Text: fmt.Sprintf("%d of %d (%.0f%%)", el.Present, pc.Resources, 100*share), Full: el.Present >= pc.Resources && pc.Resources > 0})
	}
	p.Height = len(p.Rows)*chartRowH + 4
	return p
}

// timelineChart draws one span per type from its first to its last date, on a scale of whole
// years; nil when no type has a date.
func timelineChart(spans []evidence.TypeTimeline) *dqTimeline {
	type span struct {
		tl          evidence.TypeTimeline
		first, last time.Time
	}
	var ok []span
	var lo, hi time.Time
	for _, s := range spans {
		f, err1 := time.Parse("2006-01-02", s.First)
		l, err2 := time.Parse("2006-01-02", s.Last)
		if err1 != nil || err2 != nil || l.Before(f) {
			continue
		}
		ok = append(ok, span{s, f, l})
		if lo.IsZero() || f.Before(lo) {
			lo = f
		}
		if l.After(hi) {
			hi = l
		}
	}
	if len(ok) == 0 {
		return nil
	}
	start := time.Date(lo.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(hi.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	total := end.Sub(start).Hours()
	x := func(t time.Time) float64 { return float64(chartBarX) + float64(chartBarW)*t.Sub(start).Hours()/total }
	tl := &dqTimeline{}
	years := end.Year() - start.Year()
	step := max(1, (years+7)/8) // at most eight labels
	for y := start.Year(); y <= end.Year(); y += step {
		tl.Ticks = append(tl.Ticks, dqTick{X: f2(x(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))), Year: y})
	}
	for i, s := range ok {
		x0, x1 := x(s.first), x(s.last)
		tl.Rows = append(tl.Rows, dqSpan{Label: s.tl.Type, Y: 18 + i*chartRowH, X: f2(x0), W: f2(max(x1-x0, 2)),
			Text: fmt.Sprintf("%s – %s · %d", s.tl.First, s.tl.Last, s.tl.Count)})
	}
	tl.Height = 18 + len(tl.Rows)*chartRowH + 4
	return tl
}
