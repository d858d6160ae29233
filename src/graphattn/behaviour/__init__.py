"""Does the model use what its heads encode? Its own answers to "Parents of X:" / "Children of X:"
(questions, answers, decode), and how they change when heads are mean-ablated or when attention
mass moves away from the sink (interventions)."""
