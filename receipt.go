package tierflow

import "encoding/json"

// Receipt is what the case workflow answers its Updates (open, decide, customer
// event, survey) and returns when it ends: which case, the last event the
// transition emitted, and where the case stands. It is small on purpose: every
// Update's answer is stored in the workflow's history, and the whole CaseView
// (several KB once encrypted) six times per case was a third of it.
//
// The case itself is read from the durable record (CaseReader.GetCase): an Update
// answers only once the record holds its transition, so a record whose Seq is at
// least the receipt's is the case after the message. A record still behind (its
// write deferred by a database outage) is not: the caller asks the workflow.
type Receipt struct {
	CaseID string `json:"case_id"`
	// Seq is the sequence number of the last event of the case when the message
	// was answered: its transition's last event, or an earlier one for a message
	// answered without a transition (a repeated decision_id or event_id).
	Seq    int64  `json:"seq"`
	Status Status `json:"status"`
	Tier   Tier   `json:"tier"`
}

// ReceiptOf is the receipt of a case as v shows it.
func ReceiptOf(v CaseView) Receipt {
	return Receipt{CaseID: v.ID, Seq: v.Seq, Status: v.Status, Tier: v.Tier}
}

// CaseAnswer is an Update's answer as a client decodes it. Workers from before
// receipts answered the whole CaseView, and during a rolling deploy some cases
// still run on them: both shapes decode. View is set only for the whole case
// (then Receipt is ReceiptOf(*View)).
type CaseAnswer struct {
	Receipt Receipt
	View    *CaseView
}

// UnmarshalJSON tells the shapes apart by the CaseView's "id", which a Receipt
// never has (its identity is "case_id").
func (a *CaseAnswer) UnmarshalJSON(b []byte) error {
	var probe struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if probe.ID != nil {
		var v CaseView
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*a = CaseAnswer{Receipt: ReceiptOf(v), View: &v}
		return nil
	}
	var r Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*a = CaseAnswer{Receipt: r}
	return nil
}
