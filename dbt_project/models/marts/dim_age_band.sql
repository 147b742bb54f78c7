{{ label_dimension('age_band', 'age_band') }}
