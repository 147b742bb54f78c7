{{ label_dimension('population_group', 'population_group') }}
