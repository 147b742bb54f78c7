{{ label_dimension('sex', 'sex') }}
