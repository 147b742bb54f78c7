{#- Every series' status against its target and the barometer's own verdict, for every
    municipality and the country. Status rules (docs/data.md §3), in this order:
      no_target          no target applies to the indicator and municipality
      insufficient_data  the value is suppressed
      met                the value is at or beyond the target (direction-aware)
      missed             the target year has come and the target is not met
      insufficient_data  fewer than 3 years of values in the trend window
      on_track           the trend reaches the target by the target year
      off_track          otherwise
    The verdict (development) compares the value with the baseline value, both rounded to
    whole units half away from zero as the barometer publishes them, direction-aware: a fall
    is positive for lower-is-better indicators. -#}
with projected as (
    select
        *,
        {{ round_half_away_from_zero('value') }} as value_rounded,
        {{ round_half_away_from_zero('baseline_value') }} as baseline_value_rounded
    from {{ ref('int_target_gaps_projected') }}
)

select
    indicator_code,
    municipality_code,
    year,
    value,
    value_rounded,
    national_value,
    target_value,
    target_year,
    target_kind,
    gap_to_target,
    trend_per_year,
    projected_year_reaching_target::integer as projected_year_reaching_target,
    case
        when target_value is null then 'no_target'
        when value is null then 'insufficient_data'
        when gap_to_target <= 0 then 'met'
        when year >= target_year then 'missed'
        when trend_years < 3 then 'insufficient_data'
        when projected_year_reaching_target <= target_year then 'on_track'
        else 'off_track'
    end as status,
    baseline_year,
    baseline_value,
    case
        when value_rounded is null or baseline_value_rounded is null then null
        when value_rounded = baseline_value_rounded then 'unchanged'
        when (value_rounded > baseline_value_rounded) = (direction = 'higher_is_better')
            then 'positive'
        else 'negative'
    end as development
from projected
