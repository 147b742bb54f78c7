{{ label_dimension('suppression_reason', 'suppression_reason') }}
