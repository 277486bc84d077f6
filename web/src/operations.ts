// The named operations of graphql/operations/: the UI asks nothing a client could not.
import AssetPage from "../../graphql/operations/AssetPage.graphql?raw";
import LineageExplorer from "../../graphql/operations/LineageExplorer.graphql?raw";
import LinkAssets from "../../graphql/operations/LinkAssets.graphql?raw";
import Overview from "../../graphql/operations/Overview.graphql?raw";
import RunPage from "../../graphql/operations/RunPage.graphql?raw";
import Search from "../../graphql/operations/Search.graphql?raw";
import UnlinkAssets from "../../graphql/operations/UnlinkAssets.graphql?raw";
import Viewer from "../../graphql/operations/Viewer.graphql?raw";

export const operations = {
  AssetPage,
  LineageExplorer,
  LinkAssets,
  Overview,
  RunPage,
  Search,
  UnlinkAssets,
  Viewer,
};
