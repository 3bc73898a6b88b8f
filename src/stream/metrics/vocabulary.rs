//! The metrics' vocabulary: every value's Kinesis name, the CloudWatch statistic it stands for and
//! its unit, so that a server can print them without a table of its own.

/// What a metric's value means, in CloudWatch terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Statistic {
    /// A running total since the stream was opened (a Prometheus counter).
    Sum,
    /// The number of samples since the stream was opened (a Prometheus counter).
    SampleCount,
    /// The largest sample since the stream was opened.
    Maximum,
    /// The most recent sample (a Prometheus gauge).
    Latest,
}

impl Statistic {
    /// The CloudWatch spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Sum => "Sum",
            Statistic::SampleCount => "SampleCount",
            Statistic::Maximum => "Maximum",
            Statistic::Latest => "Latest",
        }
    }

    /// Whether the value only grows, so a difference over a window is meaningful.
    pub fn is_cumulative(self) -> bool {
        matches!(self, Statistic::Sum | Statistic::SampleCount)
    }
}

/// The unit of a metric's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Bytes.
    Bytes,
    /// A count of records or calls.
    Count,
    /// Milliseconds.
    Milliseconds,
    /// Microseconds.
    Microseconds,
}

impl Unit {
    /// The CloudWatch spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Bytes => "Bytes",
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Microseconds => "Microseconds",
        }
    }
}

/// Declares a metric enum: its variants with their Kinesis name, statistic and unit.
macro_rules! metrics {
    (
        $(#[$enum_doc:meta])*
        $enum:ident {
            $( $(#[$doc:meta])* $variant:ident = ($name:literal, $statistic:ident, $unit:ident), )+
        }
    ) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $enum {
            $( $(#[$doc])* $variant, )+
        }

        impl $enum {
            /// Every value, in the order snapshots list them.
            pub const ALL: &'static [$enum] = &[ $( $enum::$variant, )+ ];

            /// The Kinesis metric name.
            pub fn name(self) -> &'static str {
                match self { $( $enum::$variant => $name, )+ }
            }

            /// The statistic this value stands for.
            pub fn statistic(self) -> Statistic {
                match self { $( $enum::$variant => Statistic::$statistic, )+ }
            }

            /// The unit of the value.
            pub fn unit(self) -> Unit {
                match self { $( $enum::$variant => Unit::$unit, )+ }
            }
        }
    };
}

metrics! {
    /// A stream-level value (CloudWatch dimension `StreamName`).
    StreamMetric {
        /// Bytes stored by PutRecord and PutRecords.
        IncomingBytes = ("IncomingBytes", Sum, Bytes),
        /// Records stored by PutRecord and PutRecords.
        IncomingRecords = ("IncomingRecords", Sum, Count),
        /// Successful PutRecord calls.
        PutRecordSuccess = ("PutRecord.Success", Sum, Count),
        /// Bytes stored by PutRecord.
        PutRecordBytes = ("PutRecord.Bytes", Sum, Bytes),
        /// PutRecords calls that stored at least one record.
        PutRecordsSuccess = ("PutRecords.Success", Sum, Count),
        /// Bytes stored by PutRecords.
        PutRecordsBytes = ("PutRecords.Bytes", Sum, Bytes),
        /// Entries of PutRecords calls that passed validation.
        PutRecordsTotalRecords = ("PutRecords.TotalRecords", Sum, Count),
        /// PutRecords entries stored.
        PutRecordsSuccessfulRecords = ("PutRecords.SuccessfulRecords", Sum, Count),
        /// PutRecords entries that failed with `InternalFailure`.
        PutRecordsFailedRecords = ("PutRecords.FailedRecords", Sum, Count),
        /// PutRecords entries refused by the shard's write limits.
        PutRecordsThrottledRecords = ("PutRecords.ThrottledRecords", Sum, Count),
        /// Successful GetRecords calls.
        GetRecordsSuccess = ("GetRecords.Success", Sum, Count),
        /// Records returned by GetRecords.
        GetRecordsRecords = ("GetRecords.Records", Sum, Count),
        /// Bytes returned by GetRecords.
        GetRecordsBytes = ("GetRecords.Bytes", Sum, Bytes),
        /// The largest of the shards' latest iterator ages: how far the slowest shard's consumer
        /// was behind at its last call.
        GetRecordsIteratorAgeMilliseconds =
            ("GetRecords.IteratorAgeMilliseconds", Latest, Milliseconds),
        /// The largest iterator age any GetRecords call reported.
        GetRecordsIteratorAgeMillisecondsMax =
            ("GetRecords.IteratorAgeMilliseconds", Maximum, Milliseconds),
        /// Total time spent in successful GetRecords calls.
        GetRecordsLatencySum = ("GetRecords.Latency", Sum, Microseconds),
        /// Number of GetRecords latency samples (one per successful call).
        GetRecordsLatencyCount = ("GetRecords.Latency", SampleCount, Count),
        /// The longest successful GetRecords call.
        GetRecordsLatencyMax = ("GetRecords.Latency", Maximum, Microseconds),
        /// Records refused by the shards' write limits (PutRecord and PutRecords).
        WriteProvisionedThroughputExceeded = ("WriteProvisionedThroughputExceeded", Sum, Count),
        /// GetRecords calls refused by the shards' read limits.
        ReadProvisionedThroughputExceeded = ("ReadProvisionedThroughputExceeded", Sum, Count),
    }
}

metrics! {
    /// A shard-level value (CloudWatch dimensions `StreamName`, `ShardId`: enhanced monitoring).
    ShardMetric {
        /// Bytes stored in the shard.
        IncomingBytes = ("IncomingBytes", Sum, Bytes),
        /// Records stored in the shard.
        IncomingRecords = ("IncomingRecords", Sum, Count),
        /// Bytes read from the shard.
        OutgoingBytes = ("OutgoingBytes", Sum, Bytes),
        /// Records read from the shard.
        OutgoingRecords = ("OutgoingRecords", Sum, Count),
        /// Records refused by the shard's write limits.
        WriteProvisionedThroughputExceeded = ("WriteProvisionedThroughputExceeded", Sum, Count),
        /// Reads refused by the shard's read limits.
        ReadProvisionedThroughputExceeded = ("ReadProvisionedThroughputExceeded", Sum, Count),
        /// The iterator age the shard's latest read reported.
        IteratorAgeMilliseconds = ("IteratorAgeMilliseconds", Latest, Milliseconds),
        /// The largest iterator age any read of the shard reported.
        IteratorAgeMillisecondsMax = ("IteratorAgeMilliseconds", Maximum, Milliseconds),
    }
}
