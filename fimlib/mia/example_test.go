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
