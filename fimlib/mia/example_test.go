package mia_test

import (
	"fmt"

	"github.com/fimprune/fimprune/fimlib/mia"
)

func ExampleAttack() {
	// Probabilities of the true class; members were trained on, so the
	// model tends to be more confident on them.
	member := mia.LossScores([]float64{0.99, 0.95, 0.9, 0.6, 0.8})
	nonMember := mia.LossScores([]float64{0.7, 0.95, 0.5, 0.85, 0.3})

	res, err := mia.Attack(member, nonMember, 200, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("seed attack accuracy %.2f\n", res.BestThresholdAccuracy)
	fmt.Printf("AUC %.2f, advantage %.2f\n", res.AUC, res.Advantage)
	fmt.Println("interval contains AUC:", res.AUCCI95[0] <= res.AUC && res.AUC <= res.AUCCI95[1])
	// By hand: members win 18.5 of 25 pairs (AUC 0.74). With equal sides a
	// threshold's accuracy is 0.5 + (TPR − FPR)/2, so the seed's best
	// accuracy is 0.5 + advantage/2 = 0.70 when a threshold lands in the
	// best gap.
	// Output:
	// seed attack accuracy 0.70
	// AUC 0.74, advantage 0.40
	// interval contains AUC: true
}

func ExampleSummarize() {
	// Logit-scaled confidences of 4 members and 4 non-members.
	member := []float64{2.1, 3.5, 0.4, 5.0}
	nonMember := []float64{1.2, -0.3, 2.5, 0.1}

	s, err := mia.Summarize(member, nonMember, mia.SummaryConfig{Bootstrap: 200, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	// By hand: members win 13 of 16 pairs; cutoff 3.5 calls half the
	// members and no non-member.
	fmt.Printf("AUC %.4f, advantage %.2f\n", s.AUC, s.Advantage)
	for _, l := range s.LowFPR {
		// 4 non-members cannot show an FPR of 1 % or 0.1 %.
		fmt.Printf("TPR at FPR %g: resolvable %v, %v\n", l.FPR, l.Resolvable, l.TPR)
	}
	// Output:
	// AUC 0.8125, advantage 0.50
	// TPR at FPR 0.01: resolvable false, NaN
	// TPR at FPR 0.001: resolvable false, NaN
}

func ExampleLiRA() {
	// Six examples of increasing difficulty; four shadow models, each
	// trained on half of them. Training on an example raises its score by
	// 2 above the example's own level, which varies far more than that.
	level := []float64{-3, -1, 0, 1, 2, 4}
	noise := []float64{-0.25, 0.25, 0.5, -0.5}
	shadow, in := make([][]float64, 4), make([][]bool, 4)
	for k := range shadow {
		shadow[k], in[k] = make([]float64, len(level)), make([]bool, len(level))
		for j, b := range level {
			in[k][j] = (j+k)%2 == 0
			shadow[k][j] = b + noise[k]
			if in[k][j] {
				shadow[k][j] += 2
			}
		}
	}
	// The attacked model trained on examples 0, 2 and 4.
	member := []bool{true, false, true, false, true, false}
	target := make([]float64, len(level))
	for j, b := range level {
		target[j] = b + 0.25
		if member[j] {
			target[j] += 2
		}
	}

	res, err := mia.LiRA(shadow, in, target, mia.LiRAConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, n, skipped, _ := mia.SplitMembers(res.Stat, member)
	lira, _ := mia.AUC(m, n)
	m, n, _, _ = mia.SplitMembers(target, member)
	raw, _ := mia.AUC(m, n)
	// The raw score mixes levels: members −0.75, 2.25, 4.25 against
	// non-members −0.75, 1.25, 4.25 win 5 of 9 pairs, ties counting ½.
	fmt.Printf("skipped %d; AUC: LiRA %.2f, raw score %.2f\n", skipped, lira, raw)
	// Output:
	// skipped 0; AUC: LiRA 1.00, raw score 0.56
}

func ExampleChallengeScore() {
	// One forget example's logit-scaled confidence under 4 unlearned and
	// 4 retrained models, in metric.py's [models][examples] layout.
	unlearned := [][]float64{{0}, {1}, {2}, {3}}
	retrained := [][]float64{{1.5}, {2.5}, {3.5}, {4.5}}

	c, err := mia.ChallengeScore(unlearned, retrained, mia.EpsilonConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// One model of each side lies across the best threshold: the largest
	// finite ε that 4 models per side can show.
	fmt.Printf("ε %.4f (at most %.4f with %d models per side)\n", c.Epsilon[0], c.MaxFiniteEpsilon, c.Models)
	// ε ∈ [1, 1.5) earns ¼; the final score scales F by the retain and
	// test accuracy ratios, unlearned over retrained.
	fmt.Printf("F %.2f, final %.3f\n", c.ForgetScore, mia.FinalScore(c.ForgetScore, 0.84, 0.85, 0.83, 0.85))
	// Output:
	// ε 1.0986 (at most 1.0986 with 4 models per side)
	// F 0.25, final 0.241
}
