{{ label_dimension('development', 'development') }}
