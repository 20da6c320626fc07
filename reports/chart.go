package reports

import (
	"fmt"
	"sort"
	"strings"
)

// coverageChart is an inline SVG bar chart of requirement coverage, one bar per area or CFR
// paragraph, drawn by the template: readable without script, with the counts as text beside
// each bar (not colour alone).
type coverageChart struct {
	ID     string // element id, also the prefix of the hatch pattern id
	Title  string
	Height int
	Rows   []chartRow
}

type chartRow struct {
	Label string
	Y     int // top of the row
	Cov   coverage
	Segs  []chartSeg
	Text  string // "25 requirements: 20 tested · 18 pass · 2 fail · 3 untested"
}

type chartSeg struct {
	Bucket string
	Label  string
	X, W   string
	N      int
}

// Chart geometry, in SVG user units.
const (
	chartRowH  = 22
	chartBarX  = 215
	chartBarW  = 400
	chartTextX = 625
)

// newCoverageChart draws one row per key of cov, in the given order.
func newCoverageChart(id, title string, keys []string, cov map[string]coverage) coverageChart {
	ch := coverageChart{ID: id, Title: title}
	for i, k := range keys {
		c := cov[k]
		row := chartRow{Label: k, Y: i * chartRowH, Cov: c}
		x := float64(chartBarX)
		for _, b := range covBuckets {
			n := c.N[b]
			if n == 0 || c.Total == 0 {
				continue
			}
			w := float64(chartBarW) * float64(n) / float64(c.Total)
			row.Segs = append(row.Segs, chartSeg{Bucket: b, Label: covLabels[b], X: f2(x), W: f2(w), N: n})
			x += w
		}
		parts := []string{fmt.Sprintf("%d tested", c.Tested())}
		for _, b := range covBuckets {
			if n := c.N[b]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, covLabels[b]))
			}
		}
		row.Text = fmt.Sprintf("%d: %s", c.Total, strings.Join(parts, " · "))
		ch.Rows = append(ch.Rows, row)
	}
	ch.Height = len(ch.Rows)*chartRowH + 4
	return ch
}

// coverageCharts are the requirement coverage per catalogue area and per CFR paragraph.
func coverageCharts(reqs []RequirementInfo) (byArea, byCFR coverageChart) {
	area := map[string]coverage{}
	cfr := map[string]coverage{}
	for _, q := range reqs {
		a := q.Area
		if a == "" {
			a = "(no area)"
		}
		c := area[a]
		c.add(q.Status)
		area[a] = c
		for _, cit := range q.CFR {
			c := cfr[cit]
			c.add(q.Status)
			cfr[cit] = c
		}
	}
	areas := keysOf(area)
	sort.Strings(areas)
	cits := keysOf(cfr)
	sort.Slice(cits, func(i, j int) bool { return citationLess(cits[i], cits[j]) })
	return newCoverageChart("chart-area", "Requirements per area", areas, area),
		newCoverageChart("chart-cfr", "Requirements per CFR paragraph", cits, cfr)
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
