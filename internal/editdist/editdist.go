// Package editdist measures how far a misspelt name is from the real ones, for the "did you
// mean" hints of spec keys, package names and Java modules.
package editdist

// Distance is the Levenshtein distance of a and b, in runes. With limit >= 0 it gives up once
// every alignment costs more than limit and returns limit+1, which keeps scanning a release's
// 60,000 package names cheap; limit < 0 always computes the exact distance.
func Distance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if limit >= 0 && rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest returns the name in known nearest to name, at most limit edits away (the smaller
// name on a tie, so the hint does not depend on the order of known), or "" when none is.
func Closest(name string, known []string, limit int) string {
	best, bestD := "", limit+1
	for _, k := range known {
		d := Distance(name, k, limit)
		if d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if bestD > limit {
		return ""
	}
	return best
}
