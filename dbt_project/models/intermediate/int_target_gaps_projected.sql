{#- Each series' distance to its target and, from its trend, the year it would reach it.
    The gap is signed so that positive means still short of the target, in the indicator's
    unit. Beyond a century the trend says nothing useful: that projection is null (never). -#}
with series as (
    select * from {{ ref('int_indicator_values_trended') }}
),

gaps as (
    select
        series.indicator_code,
        series.municipality_code,
        series.year,
        series.value,
        series.direction,
        national.value as national_value,
        targets.target_value,
        targets.target_year,
        targets.target_kind,
        {{ round_half_away_from_zero(
            "case when series.direction = 'higher_is_better' then targets.target_value - series.value"
            ~ " else series.value - targets.target_value end", 6) }} as gap_to_target,
        series.trend_per_year,
        series.trend_years,
        case
            when series.direction = 'higher_is_better' then series.trend_per_year
            else -series.trend_per_year
        end as improvement_per_year,
        series.baseline_year,
        baseline.value as baseline_value
    from series
    left join {{ ref('int_targets_matched') }} as targets
        using (indicator_code, municipality_code)
    left join series as national
        on national.indicator_code = series.indicator_code
        and national.year = series.year
        and national.is_country
    left join series as baseline
        on baseline.indicator_code = series.indicator_code
        and baseline.municipality_code = series.municipality_code
        and baseline.year = series.baseline_year
)

select
    *,
    case
        when gap_to_target <= 0 then year
        when trend_years >= 3 and improvement_per_year > 0
            and gap_to_target / improvement_per_year <= 100
            then year + ceil(
                {{ round_half_away_from_zero('gap_to_target / improvement_per_year', 6) }}
            )::integer
    end as projected_year_reaching_target
from gaps
